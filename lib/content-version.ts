import { createHash } from 'node:crypto';

/** The largest value Image Builder accepts in one node of a semantic version (2^30 - 1). */
const MAX_VERSION_NODE = 2 ** 30 - 1;

/**
 * A semantic version that changes whenever anything in `inputs` does: Image Builder refuses a
 * second resource with the same name and version, and CloudFormation replaces a component or
 * recipe on any change, so every input must move the version. Two 28-bit slices of a SHA-256
 * (each below Image Builder's 2^30 - 1 limit per node) make an accidental repeat negligible.
 */
export function contentVersion(...inputs: readonly unknown[]): string {
  const hash = createHash('sha256').update(canonicalJson(inputs)).digest('hex');
  const node = (from: number): number => parseInt(hash.slice(from, from + 7), 16) & MAX_VERSION_NODE;
  return `1.${node(0)}.${node(7)}`;
}

/** JSON with object keys sorted, so that equal inputs hash equally whatever their key order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
