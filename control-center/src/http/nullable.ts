import { type TSchema, Type } from '@sinclair/typebox';

/** A schema that also accepts null (a value the centre does not know yet). */
export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
