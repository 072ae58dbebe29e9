/** Compiles a generated editor schema (schemas/*.json) the way an editor would use it. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { ROOT, SCHEMA_DIR } from '../../scripts/gen-reference.js';

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

export function editorValidator(file: string): ValidateFunction {
  // strictRequired off: `oneOf: [{required: [uri]}, ...]` names properties declared one level up
  const ajv = new Ajv({ strict: true, strictRequired: false, allErrors: true });
  ajv.addKeyword('markdownDescription');
  ajv.addFormat('date-time', RFC3339);
  return ajv.compile(JSON.parse(readFileSync(join(ROOT, SCHEMA_DIR, file), 'utf8')));
}
