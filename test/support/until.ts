/**
 * Waits for something to happen (a request arriving, a send counted), judged by the event and
 * not by a time it should take: resolves once `happened()`, checked every `everyMs`, or after
 * `giveUpMs` of real time, when the test's checks that follow fail with what did happen.
 */
export async function until(happened: () => boolean, giveUpMs = 10_000, everyMs = 2): Promise<void> {
  for (const giveUpAt = Date.now() + giveUpMs; !happened() && Date.now() < giveUpAt; ) await new Promise((resolve) => setTimeout(resolve, everyMs));
}
