import { KeyBuilder } from '../lib/keys/key-builder';
import { Cache } from '../lib';
function bench(name: string, fn: () => unknown, n = 3_000_000) { for (let i = 0; i < 300_000; i++) fn(); const t = process.hrtime.bigint(); for (let i = 0; i < n; i++) fn(); console.log(name.padEnd(34), (Number(process.hrtime.bigint() - t) / n).toFixed(1), 'ns'); }
async function abench(name: string, fn: () => Promise<unknown>, n = 2_000_000) { for (let i = 0; i < 200_000; i++) await fn(); const t = process.hrtime.bigint(); for (let i = 0; i < n; i++) await fn(); const ns = Number(process.hrtime.bigint() - t) / n; console.log(name.padEnd(34), ns.toFixed(1), 'ns'); return ns; }
const kb = new KeyBuilder('cachet', 'default', 'Svc.answer');
const cache = new Cache();
const f = cache.wrap(async (q: string, o: { lang: string }) => ({ q, o }), { name: 'f' });
const g = cache.wrap(async (q: string, o: { lang: string }) => ({ q, o }), { name: 'g', key: () => 'k' });
const map = new Map([['k', 1]]);
(async () => {
for (let r = 0; r < 2; r++) {
  bench('keyFor (memo hit)', () => kb.keyFor(undefined, ['What is the refund policy?', { lang: 'en' }]));
  const b = await abench('await map.get', async () => map.get('k'));
  const w = await abench('wrap hit', () => f('What is the refund policy?', { lang: 'en' }));
  const k = await abench('wrap hit key:()=>k', () => g('What is the refund policy?', { lang: 'en' }));
  console.log('ratios', (w / b).toFixed(2), (k / b).toFixed(2));
}
})();
