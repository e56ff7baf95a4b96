/**
 * Merges props over defaults, skipping props that are `undefined`: `{ ...defaults, ...props }`
 * would let an explicit `undefined` (a stack passing an optional value through) erase a default.
 */
export function withDefaults<D extends object, P extends object>(defaults: D, props: P): D & P {
  const merged = { ...defaults } as Record<string, unknown>;
  for (const [key, value] of Object.entries(props)) {
    if (value !== undefined) merged[key] = value;
  }
  return merged as D & P;
}
