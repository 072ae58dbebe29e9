/**
 * ResponsePlan -> CheckResponse bytes (test/unit/wire-encode.test.ts reads them back with
 * @bufbuild/protobuf and with Envoy's own protos). Proto3 default scalars are left out
 * except where presence is the point: the status, `append` (with its value), the chosen
 * http_response, and every member of a Struct Value's oneof.
 */
import { ClaimcheckError } from '../../errors.js';
import type { DeniedPlan, HeaderToSet, ResponsePlan } from '../../respond/plan.js';
import { isDroppedMember, jsonValue } from './json-value.js';
import { WireWriter } from './writer.js';

// CheckResponse
const STATUS = 1;
const DENIED_RESPONSE = 2;
const OK_RESPONSE = 3;
const DYNAMIC_METADATA = 4;
// google.rpc.Status, envoy.type.v3.HttpStatus
const CODE = 1;
// OkHttpResponse, DeniedHttpResponse
const HEADERS = 2;
const HEADERS_TO_REMOVE = 5;
const QUERY_PARAMETERS_TO_REMOVE = 8;
const DENIED_STATUS = 1;
const DENIED_BODY = 3;
// HeaderValueOption, HeaderValue
const OPTION_HEADER = 1;
const OPTION_APPEND = 2;
const OPTION_APPEND_ACTION = 3;
const OVERWRITE_IF_EXISTS_OR_ADD = 2;
const BOOL_VALUE_VALUE = 1;
const HEADER_KEY = 1;
const HEADER_VALUE = 2;
// google.protobuf.Struct, its map entry, Value, ListValue
const STRUCT_FIELDS = 1;
const ENTRY_KEY = 1;
const ENTRY_VALUE = 2;
const NULL_VALUE = 1;
const NUMBER_VALUE = 2;
const STRING_VALUE = 3;
const BOOL_VALUE = 4;
const STRUCT_VALUE = 5;
const LIST_VALUE = 6;
const LIST_VALUES = 1;

/**
 * The status is always set: an empty CheckResponse allows in Envoy. Throws
 * ClaimcheckError('invalid_response_plan') for a plan that cannot be encoded
 * faithfully; the server turns that into a 503 denial.
 */
export function encodeCheckResponse(plan: ResponsePlan): Buffer {
  const w = new WireWriter();
  if (plan.kind === 'ok') {
    w.close(w.open(STATUS));
    const ok = w.open(OK_RESPONSE);
    for (const h of plan.headersToSet) writeHeaderOption(w, HEADERS, h);
    for (const name of plan.headersToRemove) w.string(HEADERS_TO_REMOVE, name);
    // Envoy >= 1.21; older proxies ignore the field and forward the parameter.
    for (const name of plan.queryParametersToRemove ?? []) w.string(QUERY_PARAMETERS_TO_REMOVE, name);
    w.close(ok);
    const meta = plan.dynamicMetadata;
    if (meta && Object.keys(meta).length > 0) {
      const struct = w.open(DYNAMIC_METADATA);
      writeStructFields(w, meta, 0);
      w.close(struct);
    }
    return w.finish();
  }
  if (plan.kind === 'denied') {
    assertEncodableDenial(plan);
    const status = w.open(STATUS);
    w.uint(CODE, plan.grpcCode);
    w.close(status);
    const denied = w.open(DENIED_RESPONSE);
    const httpStatus = w.open(DENIED_STATUS);
    w.uint(CODE, plan.httpStatus);
    w.close(httpStatus);
    for (const h of plan.headers) writeHeaderOption(w, HEADERS, h);
    if (plan.body) w.string(DENIED_BODY, plan.body);
    w.close(denied);
    return w.finish();
  }
  throw new ClaimcheckError('invalid_response_plan', 'response plan of unknown kind');
}

/** HeaderValueOption with overwrite semantics on every Envoy version. */
function writeHeaderOption(w: WireWriter, field: number, h: HeaderToSet): void {
  const option = w.open(field);
  const header = w.open(OPTION_HEADER);
  if (h.name) w.string(HEADER_KEY, h.name);
  if (h.value) w.string(HEADER_VALUE, h.value);
  w.close(header);
  // Envoy <= 1.36 reads only the deprecated `append` (false = overwrite); 1.37 briefly
  // read only append_action, whose default APPEND_IF_EXISTS_OR_ADD lets spoofed copies survive.
  // value: false is written out for clients that decode without defaults.
  const append = w.open(OPTION_APPEND);
  w.uint(BOOL_VALUE_VALUE, 0);
  w.close(append);
  w.uint(OPTION_APPEND_ACTION, OVERWRITE_IF_EXISTS_OR_ADD);
  w.close(option);
}

/** A denial must never read as an allow or as a non-error. */
function assertEncodableDenial(plan: DeniedPlan): void {
  // google.rpc.Code 1..16; 0 would allow the request.
  if (!Number.isInteger(plan.grpcCode) || plan.grpcCode < 1 || plan.grpcCode > 16) {
    throw new ClaimcheckError('invalid_response_plan', `denied plan with gRPC code ${String(plan.grpcCode)}`);
  }
  if (!Number.isInteger(plan.httpStatus) || plan.httpStatus < 400 || plan.httpStatus > 599) {
    throw new ClaimcheckError('invalid_response_plan', `denied plan with HTTP status ${String(plan.httpStatus)}`);
  }
}

/** The fields of a google.protobuf.Struct: members as JSON.stringify keeps them. */
function writeStructFields(w: WireWriter, obj: object, depth: number): void {
  for (const key of Object.keys(obj)) {
    const value = (obj as Record<string, unknown>)[key];
    if (isDroppedMember(value)) continue;
    const mark = w.mark();
    const entry = w.open(STRUCT_FIELDS);
    w.string(ENTRY_KEY, key);
    const v = w.open(ENTRY_VALUE);
    writeValue(w, value, depth + 1);
    w.close(v);
    w.close(entry);
    // JSON.parse makes `__proto__` an own key, but assigning it to a plain object sets the
    // prototype instead: no consumer can rely on it, so it is dropped. Its value is still
    // converted (and may throw), so drop it only now.
    if (key === '__proto__') w.rewind(mark);
  }
}

function writeValue(w: WireWriter, value: unknown, depth: number): void {
  const v = jsonValue(value, depth);
  switch (typeof v) {
    case 'string':
      w.string(STRING_VALUE, v);
      return;
    case 'number':
      w.double(NUMBER_VALUE, v);
      return;
    case 'boolean':
      w.uint(BOOL_VALUE, v ? 1 : 0);
      return;
  }
  if (v === null) {
    w.uint(NULL_VALUE, 0);
  } else if (Array.isArray(v)) {
    const list = w.open(LIST_VALUE);
    for (let i = 0; i < v.length; i++) {
      const slot = w.open(LIST_VALUES);
      const e: unknown = v[i];
      // null for undefined and for a hole, as JSON.stringify writes them
      if (e === undefined) w.uint(NULL_VALUE, 0);
      else writeValue(w, e, depth + 1);
      w.close(slot);
    }
    w.close(list);
  } else {
    const struct = w.open(STRUCT_VALUE);
    writeStructFields(w, v, depth);
    w.close(struct);
  }
}
