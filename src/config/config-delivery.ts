import type { ConfigProblem } from '../errors.js';
import type { AnyResource } from '../model/types.js';

/** What a configuration source hands to the server on every change. */
export interface ConfigDelivery {
  /** what to serve: accepted current versions, or last good ones */
  resources: AnyResource[];
  /** namespace/name of issuers that are refused: their tokens are denied */
  refusedIssuers: ReadonlySet<string>;
  /** problems of the resources and documents that are not served (the source logs them) */
  rejected: ConfigProblem[];
  /** problems that keep this whole delivery from serving: the last good snapshot stays */
  fatal: ConfigProblem[];
  /** the manifest files read (file source) */
  files: string[];
}
