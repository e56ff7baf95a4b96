import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The shipped Varnish configuration (docs/cdn) made ready to run: the top file with its backend
 * placeholders filled, next to the edge logic it includes (live-origin.vcl).
 */

const VCL_DIR = fileURLToPath(new URL('../../docs/cdn/', import.meta.url));

/**
 * Writes the VCL for one region (varnish.vcl) or two (varnish-two-regions.vcl: fallback
 * director with /readyz probes) into `dir`; returns the file to give `varnishd -f`.
 */
export function writeEdgeVcl(dir: string, origins: readonly [URL] | readonly [URL, URL]): string {
  const [region1, region2] = origins;
  const top = region2 === undefined ? 'varnish.vcl' : 'varnish-two-regions.vcl';
  const values: Record<string, string> =
    region2 === undefined
      ? { ORIGIN_HOST: region1.hostname, ORIGIN_PORT: region1.port }
      : { REGION1_HOST: region1.hostname, REGION1_PORT: region1.port, REGION2_HOST: region2.hostname, REGION2_PORT: region2.port };
  for (const file of readdirSync(VCL_DIR).filter((name) => name.endsWith('.vcl'))) {
    let vcl = readFileSync(join(VCL_DIR, file), 'utf8');
    if (file === top) {
      vcl = vcl.replace(/\$\{([A-Z0-9_]+)\}/g, (placeholder, name: string) => {
        const value = values[name];
        if (value === undefined) throw new Error(`${file}: no value for ${placeholder}`);
        return value;
      });
    }
    writeFileSync(join(dir, file), vcl);
  }
  return join(dir, top);
}
