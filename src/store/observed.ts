import type { StateStore } from "./port.js";

/**
 * The same store, telling `onError` about every operation that fails (Redis unreachable, a refused
 * command) before the caller sees the error as it was: callers that recover from a store outage
 * (affinity, the key cache) would otherwise leave no trace of it.
 */
export function observeStoreErrors(store: StateStore, onError: (operation: string) => void): StateStore {
  const watch = <T>(operation: string, pending: Promise<T>): Promise<T> =>
    pending.catch((err: unknown) => {
      onError(operation);
      throw err;
    });
  return {
    kind: store.kind,
    get: (key) => watch("get", store.get(key)),
    set: (key, value, ttlMs) => watch("set", store.set(key, value, ttlMs)),
    setIfAbsent: (key, value, ttlMs) => watch("setIfAbsent", store.setIfAbsent(key, value, ttlMs)),
    delete: (key) => watch("delete", store.delete(key)),
    increment: (key, by, ttlMs) => watch("increment", store.increment(key, by, ttlMs)),
    consume: (key, amount, limit, windowMs) => watch("consume", store.consume(key, amount, limit, windowMs)),
    consumeSliding: (key, amount, limit, windowMs) =>
      watch("consumeSliding", store.consumeSliding(key, amount, limit, windowMs)),
    reserve: (request) => watch("reserve", store.reserve(request)),
    settleReservation: (request) => watch("settleReservation", store.settleReservation(request)),
    hashSet: (key, field, value) => watch("hashSet", store.hashSet(key, field, value)),
    hashGet: (key, field) => watch("hashGet", store.hashGet(key, field)),
    hashGetAll: (key) => watch("hashGetAll", store.hashGetAll(key)),
    hashDelete: (key, field) => watch("hashDelete", store.hashDelete(key, field)),
    ping: () => watch("ping", store.ping()),
    close: () => store.close(),
  };
}
