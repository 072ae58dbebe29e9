/**
 * A value now or later. A cached token is decided without any await: each async level
 * is a promise and a microtask per request, and a Check on a cache hit needs none
 * (docs/performance.md). Only a cache miss waits, for keys and the signature check.
 */
export type MaybePromise<T> = T | Promise<T>;

export function isPromise<T>(v: MaybePromise<T>): v is Promise<T> {
  return v instanceof Promise;
}

/** `f(v)` now when `v` is a value, after it settles when it is a promise; a rejection passes through. */
export function then<T, R>(v: MaybePromise<T>, f: (value: T) => MaybePromise<R>): MaybePromise<R> {
  return isPromise(v) ? v.then(f) : f(v);
}
