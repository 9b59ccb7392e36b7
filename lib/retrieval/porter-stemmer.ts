import { stemmer } from 'stemmer';

/**
 * The Porter stemmer (M. F. Porter, 1980), the classic light English stemmer: `connection`,
 * `connected` and `connecting` all become `connect`. This is the maintained `stemmer` package, which
 * agrees with Porter's published output on the whole of his 23,531-word reference vocabulary (the
 * specs check every word). Input is lower-cased; words of one or two letters come back as they are.
 *
 * @example porterStem('possibly') // 'possibl', as `possible` is
 */
export function porterStem(word: string): string {
  return stemmer(word);
}
