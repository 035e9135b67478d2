/** Live-view layouts: a square grid, or one large tile with 5 or 7 small ones around it. Browser-safe (no schema code). */
export const LAYOUTS = ['1', '4', '9', '16', '1+5', '1+7'] as const;
export type Layout = (typeof LAYOUTS)[number];

/** Most tiles a layout holds. */
export const MAX_TILES = 16;
