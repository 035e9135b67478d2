import type { TSchema } from '@sinclair/typebox';
import type { TypeCheck } from '@sinclair/typebox/compiler';

/**
 * The first schema violation of `value`, as `<json-path> <message>` (`/` for the root), or
 * undefined when the value matches. One wording for every channel and config file, so an
 * operator reads the same kind of message whichever input was wrong.
 */
export function firstSchemaError<T extends TSchema>(checker: TypeCheck<T>, value: unknown): string | undefined {
  if (checker.Check(value)) return undefined;
  const first = checker.Errors(value).First();
  return first ? `${first.path || '/'} ${first.message}` : '/ does not match the schema';
}
