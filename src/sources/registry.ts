/**
 * Sources by name, as the codecs are: one adapter per kind, registered once (a second
 * registration of a kind throws), looked up by the kind a config or a snapshot names.
 */
import type { SourceAdapter } from './adapter.js';
import type { SourceConfig, SourceKind } from './config.js';
import { SourceError } from './errors.js';

export interface SourceRegistry {
  register<C extends SourceConfig>(adapter: SourceAdapter<C>): void;
  get<K extends SourceKind>(kind: K): SourceAdapter<Extract<SourceConfig, { kind: K }>>;
  kinds(): SourceKind[];
}

export function makeSourceRegistry(): SourceRegistry {
  const adapters = new Map<string, SourceAdapter<never>>();
  return {
    register(adapter) {
      if (adapters.has(adapter.kind)) throw new Error(`source kind "${adapter.kind}" is registered twice`);
      adapters.set(adapter.kind, adapter as unknown as SourceAdapter<never>);
    },
    get(kind) {
      const adapter = adapters.get(kind);
      if (!adapter) throw new SourceError('SOURCE', `no source adapter for kind "${kind}" (known: ${[...adapters.keys()].join(', ')}): upgrade lifeboat`);
      return adapter as never;
    },
    kinds: () => [...adapters.keys()] as SourceKind[],
  };
}
