import { type Static, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { firstSchemaError } from '@schoolcam/protocol/schema/first-error';
import { Latitude, Longitude, Name, OrgId } from '../http/schemas';
import type { OrgInput, OrgStore } from '../storage/org-store';

const Named = Type.Object({ id: OrgId, name: Name }, { additionalProperties: false });

/** A region file (see `config/region.kvk.yaml`): the region, its towns, each town's police force and schools. */
export const RegionFile = Type.Object(
  {
    region: Named,
    towns: Type.Array(
      Type.Object(
        {
          id: OrgId,
          name: Name,
          /** Where the town is (WGS84 degrees), for the dashboard's region map. */
          lat: Type.Optional(Latitude),
          lon: Type.Optional(Longitude),
          police: Type.Optional(Named),
          schools: Type.Array(Named, { maxItems: 1000 }),
        },
        { additionalProperties: false },
      ),
      { maxItems: 1000 },
    ),
  },
  { additionalProperties: false },
);
export type RegionFile = Static<typeof RegionFile>;

const checker = TypeCompiler.Compile(RegionFile);

export function loadRegionFile(file: string): RegionFile {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file} cannot be read: ${(err as Error).message}`);
  }
  const problem = firstSchemaError(checker, raw);
  if (problem) throw new Error(`${file}: ${problem}`);
  return raw as RegionFile;
}

/** The organisations a region file describes, parents before children. */
export function regionOrgs(region: RegionFile): OrgInput[] {
  const out: OrgInput[] = [{ id: region.region.id, kind: 'region', name: region.region.name, parentId: null }];
  for (const town of region.towns) {
    out.push({ id: town.id, kind: 'town', name: town.name, parentId: region.region.id, lat: town.lat ?? null, lon: town.lon ?? null });
    if (town.police) out.push({ id: town.police.id, kind: 'police', name: town.police.name, parentId: town.id });
    for (const s of town.schools) out.push({ id: s.id, kind: 'school', name: s.name, parentId: town.id });
  }
  return out;
}

/**
 * Imports a region (idempotent: names and parents are updated, nothing is deleted). Throws,
 * changing nothing, when an id exists as another kind of organisation.
 */
export function importRegion(orgs: OrgStore, region: RegionFile, transaction: <T>(fn: () => T) => T): number {
  const records = regionOrgs(region);
  const seen = new Set<string>();
  for (const r of records) {
    if (seen.has(r.id)) throw new Error(`organisation id ${r.id} appears twice in the region file`);
    seen.add(r.id);
  }
  return transaction(() => {
    for (const r of records) if (!orgs.upsert(r)) throw new Error(`${r.id} exists as another kind of organisation than ${r.kind}`);
    return records.length;
  });
}
