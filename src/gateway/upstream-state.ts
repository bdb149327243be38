/**
 * Health of one upstream as plain data, and the pure transitions that change it. Two signals combine:
 * active probes (a real tiny completion every interval, with healthy/unhealthy thresholds) and passive
 * outlier detection (consecutive failed requests eject the upstream for a cooldown that doubles on each
 * repeated ejection). An upstream takes traffic when it is healthy, not ejected and not drained.
 */

export interface HealthPolicy {
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
  readonly consecutiveFailures: number;
  readonly baseEjectionMs: number;
  readonly maxEjectionMs: number;
}

export interface UpstreamState {
  readonly healthy: boolean;
  readonly probeSuccesses: number;
  readonly probeFailures: number;
  readonly consecutiveFailures: number;
  /** Ejections in a row without a recovery in between; scales the cooldown. */
  readonly ejections: number;
  /** Epoch ms until which passive outlier detection keeps the upstream out; 0 when not ejected. */
  readonly ejectedUntil: number;
  readonly drained: boolean;
  readonly lastError: string | undefined;
}

/** Upstreams start healthy so traffic flows at once; the first probe runs immediately at start. */
export function initialState(): UpstreamState {
  return { healthy: true, probeSuccesses: 0, probeFailures: 0, consecutiveFailures: 0, ejections: 0, ejectedUntil: 0, drained: false, lastError: undefined };
}

export function isEjected(s: UpstreamState, now: number): boolean {
  return s.ejectedUntil > now;
}

export function isAvailable(s: UpstreamState, now: number): boolean {
  return s.healthy && !s.drained && !isEjected(s, now);
}

export function onProbeSuccess(s: UpstreamState, p: HealthPolicy, now: number): UpstreamState {
  const probeSuccesses = s.probeSuccesses + 1;
  const recovered = probeSuccesses >= p.healthyThreshold;
  // Enough good probes also lift a passive ejection early (the probe is a real completion), so a restarted
  // primary gets traffic back after the healthy threshold, not after the whole cooldown.
  if (recovered && (!s.healthy || isEjected(s, now))) {
    return { ...s, healthy: true, probeSuccesses, probeFailures: 0, ejectedUntil: 0, ejections: 0, consecutiveFailures: 0 };
  }
  return { ...s, probeSuccesses, probeFailures: 0 };
}

export function onProbeFailure(s: UpstreamState, p: HealthPolicy, now: number, error: string): UpstreamState {
  const probeFailures = s.probeFailures + 1;
  if (s.healthy && probeFailures >= p.unhealthyThreshold) {
    return { ...s, healthy: false, probeFailures, probeSuccesses: 0, lastError: error };
  }
  return { ...s, probeFailures, probeSuccesses: 0, lastError: error };
}

export function onRequestSuccess(s: UpstreamState, now: number): UpstreamState {
  if (s.consecutiveFailures === 0 && (s.ejections === 0 || isEjected(s, now))) return s;
  return { ...s, consecutiveFailures: 0, ejections: isEjected(s, now) ? s.ejections : 0 };
}

export function onRequestFailure(s: UpstreamState, p: HealthPolicy, now: number, error: string): UpstreamState {
  const consecutiveFailures = s.consecutiveFailures + 1;
  if (consecutiveFailures < p.consecutiveFailures || isEjected(s, now)) return { ...s, consecutiveFailures, lastError: error };
  const ejections = s.ejections + 1;
  const cooldown = Math.min(p.baseEjectionMs * 2 ** (ejections - 1), p.maxEjectionMs);
  return { ...s, consecutiveFailures: 0, ejections, ejectedUntil: now + cooldown, probeSuccesses: 0, lastError: error };
}

export function setDrained(s: UpstreamState, drained: boolean): UpstreamState {
  return s.drained === drained ? s : { ...s, drained };
}
