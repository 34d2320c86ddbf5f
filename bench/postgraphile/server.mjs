// PostGraphile v5 on the benchmark database: the comparison column of bench/run.py.
//
// Started by bench/run.py (never part of the product), one Node process, on loopback:
//   DATABASE_URL  the runtime login's URL (the login dxlink's API uses: no superuser, no
//                 BYPASSRLS, owns nothing; it may only assume dxlink_api)
//   PORT          where to listen (127.0.0.1)
//   POOL_SIZE     connections, the same number as dxlink's read pool and the floor
//   PG_SETTINGS   JSON: per principal (`public`, `dispatch_coordinator`, `prefecture_admin`...:
//                 bench/shapes.py PRINCIPALS), the settings of every request's transaction, the
//                 same `set_config` values dxlink sets for that principal, and `role` =
//                 dxlink_api. A request reads as the principal its `X-Bench-Principal` header
//                 names, as the public without one (bench/run.py sends dxlink that principal's
//                 token instead; PostGraphile has no JWT set-up here)
//   PG_OPTIONS    libpq options for each connection (random_page_cost, timezone as dxlink's)
// The schema is PostGraphile's own (the amber preset), with the connection-filter plugin for
// the search and the region filter; introspection runs as dxlink_api, so that the schema holds
// what that role is granted.

import { createServer } from "node:http";

import { postgraphile } from "postgraphile";
import { makePgService } from "postgraphile/adaptors/pg";
import { grafserv } from "postgraphile/grafserv/node";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { jsonPgSmartTags } from "postgraphile/utils";
import { PostGraphileConnectionFilterPreset } from "postgraphile-plugin-connection-filter";

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`bench/postgraphile/server.mjs: ${name} is not set`);
    process.exit(2);
  }
  return value;
}

const settingsByPrincipal = JSON.parse(required("PG_SETTINGS"));
const pgSettings = settingsByPrincipal.public;
const port = Number(required("PORT"));

// PostGraphile offers filters and orders only on indexed columns; dxlink's search reads names,
// readings and romaji without an index (1,741 rows), and dxlink orders regions, assignments
// and a dataset's distributions by unindexed columns. These tags give PostGraphile the same
// filters and orders (smart tags: the documented way), so both answer the same rows in the same
// order.
const SmartTags = jsonPgSmartTags({
  version: 1,
  config: {
    class: {
      municipality: {
        attribute: Object.fromEntries(
          ["name", "kana", "romaji"].map((name) => [name, { tags: { behavior: "+filterBy" } }]),
        ),
      },
      region: { attribute: { position: { tags: { behavior: "+orderBy" } } } },
      dispatch_assignment: {
        attribute: {
          starts_on: { tags: { behavior: "+orderBy +filterBy" } },
          ends_on: { tags: { behavior: "+filterBy" } },
        },
      },
      dispatch_visit: { attribute: { starts_at: { tags: { behavior: "+orderBy" } } } },
      // The dataset page: distributions in dxlink's order (position, then id).
      distribution: { attribute: { position: { tags: { behavior: "+orderBy" } } } },
      // The dashboard's latest score: the scoring views (no keys of their own) given the keys
      // and relations dxlink declares, and the orders it reads them in.
      assessment_score: {
        tags: {
          primaryKey: "response_id",
          foreignKey: "(municipality_id) references municipality (id)",
        },
        attribute: {
          submitted_at: { tags: { behavior: "+orderBy" } },
          response_id: { tags: { behavior: "+orderBy" } },
        },
      },
      assessment_section_score: {
        tags: {
          primaryKey: "response_id,section_id",
          foreignKey: "(response_id) references assessment_score (response_id)",
        },
        attribute: { position: { tags: { behavior: "+orderBy" } } },
      },
    },
  },
});

const preset = {
  extends: [PostGraphileAmberPreset, PostGraphileConnectionFilterPreset],
  plugins: [SmartTags],
  pgServices: [
    makePgService({
      connectionString: required("DATABASE_URL"),
      schemas: ["public"],
      poolConfig: {
        max: Number(process.env.POOL_SIZE || "4"),
        options: process.env.PG_OPTIONS || "",
      },
      // Set with set_config(..., true) at the start of every request's transaction.
      pgSettings: (context) => {
        const principal = context.http?.getHeader("x-bench-principal") || "public";
        const settings = settingsByPrincipal[principal];
        if (!settings) throw new Error(`no settings for the principal ${principal}`);
        return settings;
      },
      pgSettingsForIntrospection: { role: pgSettings.role },
    }),
  ],
  schema: {
    // `filter: { regionByRegionId: { name: ... } }`: the region by its name, as dxlink takes it.
    connectionFilterRelations: true,
    // DESC NULLS LAST, as dxlink orders datasets (newest first) and as its index is built.
    pgOrderByNullsLast: true,
  },
  grafserv: { graphqlPath: "/graphql", graphiql: false, watch: false },
  grafast: { explain: false },
};

const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
const server = createServer();
server.on("error", (error) => {
  console.error(error);
  process.exit(1);
});
await serv.addTo(server);
// Build the schema (introspection) before accepting requests, so the first one is not slow.
await pgl.getSchema();
server.listen(port, "127.0.0.1");

async function shutdown() {
  server.close();
  await pgl.release();
  process.exit(0);
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
