import { type Static, Type } from '@sinclair/typebox';
import { CameraId, Name, UserId } from '../http/schemas';
import { LAYOUTS, MAX_TILES } from './layouts';

/** Schemas of `/api/me/…`, shared by the routes, the OpenAPI document and the page (type-only import). */

export const Prefs = Type.Object(
  {
    /** The dashboard's language for this account; null until chosen (the page then uses Czech). */
    lang: Type.Union([Type.Literal('cs'), Type.Literal('en'), Type.Null()]),
  },
  { additionalProperties: false },
);
export type Prefs = Static<typeof Prefs>;

export { LAYOUTS, type Layout, MAX_TILES } from './layouts';

export const LayoutSchema = Type.Union(LAYOUTS.map((l) => Type.Literal(l)));

export const SavedViewInput = Type.Object(
  {
    name: Name,
    layout: LayoutSchema,
    /** One entry per tile, in order; null for an empty tile. */
    cameras: Type.Array(Type.Union([CameraId, Type.Null()]), { maxItems: MAX_TILES }),
  },
  { additionalProperties: false },
);
export type SavedViewInput = Static<typeof SavedViewInput>;

/** A saved view's id (a UUID). */
export const ViewId = UserId;

export const SavedView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  layout: LayoutSchema,
  cameras: Type.Array(Type.Union([Type.String(), Type.Null()])),
  updatedAt: Type.Number(),
});
export type SavedView = Static<typeof SavedView>;
