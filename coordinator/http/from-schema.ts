/**
 * The TypeScript type of a JSON value matching a JSON schema written `as const`: the API's
 * response types are derived from the schemas the routes serialise with (shapes.ts), so the
 * two cannot drift apart. Covers the schema words the API uses and no more:
 *
 * - `type` (one name or a list, `'null'` included), `enum` (a union of its literals);
 * - `properties` with `required` (the rest optional), `items`;
 * - `additionalProperties` alone (no `properties`): `Record<string, unknown>`; next to
 *   `properties` it is ignored (the listed properties are the type);
 * - no `type` and no `enum` (`{}`): `unknown`.
 *
 * Type-level only: nothing here exists at run time.
 */
export type FromSchema<S> =
  S extends { readonly enum: readonly (infer E)[] } ? E
    : S extends { readonly type: infer T } ? FromTypeName<T extends readonly unknown[] ? T[number] : T, S>
      : unknown;

type FromTypeName<T, S> =
  T extends 'string' ? string
    : T extends 'integer' | 'number' ? number
      : T extends 'boolean' ? boolean
        : T extends 'null' ? null
          : T extends 'array' ? (S extends { readonly items: infer I } ? FromSchema<I>[] : unknown[])
            : T extends 'object' ? FromObject<S>
              : never;

type FromObject<S> = S extends { readonly properties: infer P }
  ? Flatten<
    { -readonly [K in keyof P & RequiredKeys<S>]: FromSchema<P[K]> } &
    { -readonly [K in Exclude<keyof P, RequiredKeys<S>>]?: FromSchema<P[K]> }
  >
  : Record<string, unknown>;

type RequiredKeys<S> = S extends { readonly required: readonly (infer K)[] } ? K : never;

/** One object type rather than an intersection, so that editors show its fields. */
type Flatten<T> = { [K in keyof T]: T[K] };
