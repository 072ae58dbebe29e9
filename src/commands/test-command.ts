/** `claimcheck test`: policy tests (placeholder until the runner lands). */
import { badFlag } from '../cli/flag.js';

export async function runTestCommand(_argv: string[]): Promise<number> {
  badFlag('test: not available in this build');
}
