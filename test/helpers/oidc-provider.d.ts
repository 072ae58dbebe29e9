/**
 * The part of oidc-provider's API the interop helper uses. The package ships no types, and
 * @types/oidc-provider would pull in Koa's typings for four members.
 */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export class Provider {
    constructor(issuer: string, configuration?: Record<string, unknown>);
    readonly issuer: string;
    /** trust X-Forwarded-Proto/-Host/-For (Koa's app.proxy) */
    proxy: boolean;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    on(event: string, listener: (...args: any[]) => void): this;
  }

  export namespace errors {
    class InvalidTarget extends Error {
      constructor(description?: string);
    }
  }

  export default Provider;
}
