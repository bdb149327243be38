/**
 * Ordering by UTF-16 code unit: for ids and ISO times (ASCII, fixed width) the same order as
 * localeCompare, without ICU's collator, whose first use alone cost a re-backup 14 ms.
 */
export function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
