/** API objects → claimcheck resources, checked against the same schema as the file source. */
import type { ConfigProblem } from '../../errors.js';
import { validateResource } from '../../model/validate-resource.js';
import { API_VERSION, type AnyResource, type Kind, type ResourceMeta } from '../../model/types.js';
import type { KubeObject } from './kube-client.js';

export interface KindInfo {
  kind: Kind;
  plural: string;
}

export const WATCHED_KINDS: readonly KindInfo[] = [
  { kind: 'TrustedIssuer', plural: 'trustedissuers' },
  { kind: 'AuthPolicy', plural: 'authpolicies' },
  { kind: 'TokenRevocation', plural: 'tokenrevocations' },
];

export function pluralOf(kind: string): string {
  return WATCHED_KINDS.find((k) => k.kind === kind)?.plural ?? `${kind.toLowerCase()}s`;
}

/** kind/namespace/name: the identity used for acceptance and status */
export { resourceKey } from '../accept-resources.js';

export type Converted = { ok: true; resource: AnyResource } | { ok: false; problems: ConfigProblem[] };

/**
 * The API server has applied the CRD schema already, but an older CRD, a schema change
 * between versions, or a write that skipped validation must not reach the compiler:
 * the object is checked again, and a failure rejects only this object.
 */
export function toResource(kind: Kind, obj: KubeObject): Converted {
  const m = obj.metadata;
  // creationTimestamp flows through: the older of two AuthPolicies claiming a host keeps it.
  const metadata: ResourceMeta = { name: m.name };
  if (m.namespace !== undefined) metadata.namespace = m.namespace;
  if (m.creationTimestamp !== undefined) metadata.creationTimestamp = m.creationTimestamp;
  if (m.generation !== undefined) metadata.generation = m.generation;
  if (m.uid !== undefined) metadata.uid = m.uid;
  if (m.resourceVersion !== undefined) metadata.resourceVersion = m.resourceVersion;
  const candidate = { apiVersion: API_VERSION, kind, metadata, spec: obj.spec };
  const problems = validateResource(candidate);
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, resource: candidate as AnyResource };
}
