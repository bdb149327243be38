/** SNAPSHOT[:subpath] as the user writes it. */
export function splitSpec(spec: string): { snapshot: string; subpath: string } {
  const colon = spec.indexOf(':');
  return colon < 0 ? { snapshot: spec, subpath: '' } : { snapshot: spec.slice(0, colon), subpath: spec.slice(colon + 1) };
}
