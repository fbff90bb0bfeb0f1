import { MirrorhookError } from '../errors.js';

const unitMs = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Parses `90s`, `10m`, `1h30m`, `2d` (Go-style, as kubectl takes them) into milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)];
  const consumed = parts.map((part) => part[0]).join('');
  if (parts.length === 0 || consumed !== text) {
    throw new MirrorhookError('MH_USAGE', `${flag} "${text}" is not a duration: write it like 90s, 10m, 1h30m or 2d`);
  }
  const total = parts.reduce((sum, part) => sum + Number(part[1]) * unitMs[part[2] as keyof typeof unitMs], 0);
  if (total <= 0) throw new MirrorhookError('MH_USAGE', `${flag} must be longer than zero`);
  return total;
}
