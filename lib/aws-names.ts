/** Shape checks shared by the config parser and the constructs' prop validation. */

const REGION = /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/;
/** Graviton families carry a `g` after the generation digit: c7g, m7gd, c7gn, t4g, im4gn. */
const GRAVITON_INSTANCE_TYPE = /^[a-z]+\d+g[a-z]*(-flex)?\.[a-z0-9]+$/;

/** `us-east-1`, `eu-west-1`, `us-gov-west-1`, ... */
export function isRegionName(value: string): boolean {
  return REGION.test(value);
}

/** An arm64 (Graviton) instance type, the only kind the arm64 AMI boots on. */
export function isGravitonInstanceType(value: string): boolean {
  return GRAVITON_INSTANCE_TYPE.test(value);
}
