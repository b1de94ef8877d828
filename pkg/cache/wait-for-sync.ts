// waitForCacheSync (upstream: cache.WaitForCacheSync): what a controller's run() does before
// its workers start, so that no sync reads a cache that has not listed yet.

/**
 * Resolves true once every informer has synced, false when the wait fails because signal
 * aborted; any other failure is thrown.
 */
export async function waitForCacheSync(
  signal: AbortSignal,
  ...informers: ReadonlyArray<{ waitForSync(signal?: AbortSignal): Promise<void> }>
): Promise<boolean> {
  try {
    await Promise.all(informers.map((i) => i.waitForSync(signal)));
  } catch (err) {
    if (signal.aborted) return false;
    throw err;
  }
  return true;
}
