export interface RetryPolicy {
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  /** 0: retry forever. */
  readonly maxAttempts: number;
}

/**
 * Exponential backoff with "full jitter" (a random delay between half and all of the exponential step), capped.
 * Jitter keeps many agents that lost the same cluster from coming back in lockstep. A delay the sink asked for
 * (Retry-After) is honoured as a floor.
 */
export function backoffDelay(policy: RetryPolicy, attempt: number, asked?: number, random = Math.random): number {
  const exp = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** Math.min(attempt - 1, 30));
  const jittered = exp / 2 + random() * (exp / 2);
  return Math.max(jittered, Math.min(asked ?? 0, policy.maxBackoffMs));
}

/** A sleep that an AbortSignal cuts short (shutdown must not wait out a 30 s backoff). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
