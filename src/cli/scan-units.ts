// `--units LIST` of `gridkeeper scan`: unit ids like `1-10,126`, each 1..247 (0 is the broadcast
// address, which nobody answers).
import { UsageError } from './io.js';

export const DEFAULT_UNITS = '1-247';
const MIN_UNIT = 1;
const MAX_UNIT = 247;

/** The unit ids of `text`, ascending, each once. Throws UsageError naming the bad item. */
export function parseUnitList(text: string): number[] {
  const units = new Set<number>();
  for (const item of text.split(',')) {
    const m = /^\s*(\d{1,3})\s*(?:-\s*(\d{1,3})\s*)?$/.exec(item);
    const from = Number(m?.[1]);
    const to = m?.[2] === undefined ? from : Number(m[2]);
    if (m === null || !inRange(from) || !inRange(to) || to < from) {
      throw new UsageError(`--units: '${item.trim()}' is not a unit id or a range of them (like 1-10,126; unit ids ${MIN_UNIT}..${MAX_UNIT})`);
    }
    for (let u = from; u <= to; u++) units.add(u);
  }
  return [...units].sort((a, b) => a - b);
}

/** `1-5,7,9-10`: the list written back compactly, for messages. */
export function formatUnitList(units: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < units.length; ) {
    let j = i;
    while (j + 1 < units.length && units[j + 1] === (units[j] ?? 0) + 1) j++;
    parts.push(i === j ? String(units[i]) : `${units[i]}-${units[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

function inRange(n: number): boolean {
  return Number.isInteger(n) && n >= MIN_UNIT && n <= MAX_UNIT;
}
