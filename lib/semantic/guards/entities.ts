import { optionError } from '../../core/validate';
import { refusal, type Guard } from './guard';
import { normalise, sameSet } from './text';

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A guard that requires the same named entities on both sides. Matching ignores case; a name that starts
 * or ends with a letter or digit must stand as a word there (`Pro` is not found in `Product`), and the
 * longest name wins (`iPhone Pro` before `iPhone`).
 */
export function entitiesGuard(entities: readonly string[]): Guard {
  if (!Array.isArray(entities)) throw optionError('entities', 'an array of non-empty strings', entities);
  entities.forEach((entity, i) => {
    if (typeof entity !== 'string' || entity.trim() === '') {
      throw optionError(`entities[${i}]`, 'a non-empty string', entity);
    }
  });
  if (entities.length === 0) return () => undefined;
  const names = [...new Set(entities.map(normalise))].sort((x, y) => y.length - x.length);
  const pattern = new RegExp(
    names
      .map((name) => {
        const start = /^[\p{L}\p{N}]/u.test(name) && !/^\p{Script=Han}/u.test(name) ? '(?<![\\p{L}\\p{N}])' : '';
        const end = /[\p{L}\p{N}]$/u.test(name) && !/\p{Script=Han}$/u.test(name) ? '(?![\\p{L}\\p{N}])' : '';
        return `${start}${escapeRegExp(name)}${end}`;
      })
      .join('|'),
    'gu',
  );
  const find = (text: string): string[] => [...new Set([...normalise(text).matchAll(pattern)].map((m) => m[0]))].sort();
  return (query, candidate) => {
    const q = find(query);
    const c = find(candidate);
    return sameSet(q, c) ? undefined : refusal('entities', q, c);
  };
}
