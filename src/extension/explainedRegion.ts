/**
 * The document range promptscope.autoExplain re-explains: the text of the last request, followed through
 * edits. Pure (no `vscode` import) so that the rules are easy to test.
 *
 * Rules, per edit (in the coordinates before the edit): text inserted exactly at the region's end extends it
 * (appending to a prompt is the usual way to iterate on it); an edit that overlaps the region, or lies inside
 * it, changes it and the region grows or shrinks with it; an edit wholly before it (an insertion right at its
 * start included) moves it; an edit after it leaves it alone.
 */
import type { TextEdit } from './resultStore';

export interface Region {
  start: number;
  end: number;
}

/** The region after one change event, and whether its text changed; `region` is undefined once it is empty. */
export function moveRegion(region: Region, edits: readonly TextEdit[]): { region: Region | undefined; changed: boolean } {
  let { start, end } = region;
  let changed = false;
  // All changes of one event are reported against the document before it: apply them from the last one on.
  for (const e of [...edits].sort((a, b) => b.rangeOffset - a.rangeOffset)) {
    const from = e.rangeOffset;
    const to = e.rangeOffset + e.rangeLength;
    const delta = e.text.length - e.rangeLength;
    if (from === to && from === end && e.text.length > 0 && end > start) {
      end += e.text.length; // appended at the end
      changed = true;
    } else if (to <= start) {
      start += delta;
      end += delta;
    } else if (from >= end) {
      continue;
    } else {
      start = Math.min(start, from);
      end = Math.max(end, to) + delta;
      changed = true;
    }
  }
  return { region: end > start ? { start, end } : undefined, changed };
}
