import { Cached, type Cache } from '../../lib/index';
import { ANSWER, type Answer } from './fixtures';
import { sleep } from './measure';

/** Stands in for a slow model call, and counts how often it really runs. */
export class Writer {
  calls = 0;
  constructor(readonly latencyMs: number) {}

  async draft(_prompt: string): Promise<Answer> {
    this.calls++;
    await sleep(this.latencyMs);
    return ANSWER;
  }
}

/** A Writer whose `draft` goes through `@Cached` on `cache`; `calls` still counts real runs. */
export function cachedWriter(cache: Cache, latencyMs: number): Writer {
  class CachedWriter extends Writer {
    @Cached({ cache })
    override async draft(prompt: string): Promise<Answer> {
      return super.draft(prompt);
    }
  }
  return new CachedWriter(latencyMs);
}

export const PROMPT = 'Write a 100-word product description for a waterproof hiking backpack, friendly tone.';
