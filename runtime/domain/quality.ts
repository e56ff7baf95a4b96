import { badRequest } from './errors.js';

/**
 * Quality scores (contract v3): each PUT may carry the packager's own 0-100 score of the segment
 * (`Live-Quality`, 100 best), as MediaLive computes one per segment for MediaPackage v2 from
 * black, frozen and fill frames, and as CMSD-MQA (SVTA2128) carries one between encoders,
 * origins and CDNs. Selection prefers the highest score among clean candidates.
 */

/** The best score, and the score of a candidate whose PUT named none. */
export const FULL_QUALITY = 100;
/** The defect kind a candidate below its event's `minQuality` counts as. */
export const LOW_QUALITY_DEFECT = 'low-quality';
/** Scores of a pipeline's latest numbered ingests that its stats keep (the status page shows them). */
export const QUALITY_HISTORY = 16;

/** One to three digits: `100`, `40`, `0` (a sign, a fraction or an exponent is no score). */
const SCORE = /^\d{1,3}$/;

/** Parses `Live-Quality`: absent is 100; otherwise an integer from 0 to 100, else 400 (nothing is stored). */
export function parseQuality(header: string | undefined): number {
  if (header === undefined) return FULL_QUALITY;
  const value = header.trim();
  if (!SCORE.test(value) || Number(value) > FULL_QUALITY) {
    throw badRequest(`Live-Quality must be an integer from 0 to ${FULL_QUALITY} (${FULL_QUALITY} best)`);
  }
  return Number(value);
}

/** A candidate's score; records from before scores existed have none and count as 100. */
export function qualityOf(candidate: { readonly quality?: number }): number {
  return candidate.quality ?? FULL_QUALITY;
}

/** Whether a candidate counts as defective: a defect reported, or a score below the event's minimum. */
export function isDefective(candidate: { readonly defects: readonly string[]; readonly quality?: number }, minQuality = 0): boolean {
  return candidate.defects.length > 0 || qualityOf(candidate) < minQuality;
}

/** The defect kinds a candidate is served with: its own, and `low-quality` below the event's minimum. */
export function defectKinds(candidate: { readonly defects: readonly string[]; readonly quality?: number }, minQuality = 0): readonly string[] {
  if (qualityOf(candidate) >= minQuality) return candidate.defects;
  return candidate.defects.includes(LOW_QUALITY_DEFECT) ? candidate.defects : [...candidate.defects, LOW_QUALITY_DEFECT];
}
