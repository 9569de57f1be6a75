import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { z } from 'zod';
import { parseDuration } from './duration.ts';
import { parseSize } from './size.ts';

/** Azurite's published development account: only a default for talking to the local emulator. */
export const AZURITE_DEV_CONNECTION_STRING =
  'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;' +
  'AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;' +
  'BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;';

const port = (fallback: number) => z.coerce.number().int().min(0).max(65_535).default(fallback);
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === undefined || ms <= 0) {
        ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration such as 30s, 10m, 24h or 7d` });
        return z.NEVER;
      }
      return ms;
    });
const size = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      const bytes = parseSize(text);
      if (bytes === undefined || bytes <= 0) {
        ctx.addIssue({ code: 'custom', message: `"${text}" is not a size such as 2GiB, 512MiB or 1048576` });
        return z.NEVER;
      }
      return bytes;
    });

/** Comma-separated content types or families (`image/*`); empty means none listed. */
const typeList = z
  .string()
  .default('')
  .transform((text) =>
    text
      .split(',')
      .map((item) => item.trim().toLowerCase())
      .filter((item) => item !== ''),
  )
  .pipe(z.array(z.string().regex(/^[a-z0-9.+-]+\/([a-z0-9.+-]+|\*)$/, 'must list types such as image/png or image/*')));

/** `true` or `false`, nothing else: a typo must not silently switch a feature. */
const flag = (fallback: 'true' | 'false') =>
  z
    .enum(['true', 'false'], { message: 'must be true or false' })
    .default(fallback)
    .transform((text) => text === 'true');

/** An unset or empty variable (compose passes `${X:-}` as '') means "not configured". */
const unsetIfEmpty = (value: unknown) => (value === '' ? undefined : value);

/** A credential: no default, and long enough that guessing it over HTTP is hopeless. */
const secret = (minLength: number) =>
  z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .min(minLength, `must be at least ${minLength} characters`)
      .max(256)
      .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
      .optional(),
  );

/** What Express's `trust proxy` accepts in a list: a named range, an address, or address/prefix or /netmask. */
function isProxyAddress(item: string): boolean {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(item)) return true;
  const [address = '', range, ...rest] = item.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (range === undefined) return true;
  if (/^\d{1,3}$/.test(range)) return Number(range) <= (family === 4 ? 32 : 128);
  return family === 4 && isIP(range) === 4;
}

const envSchema = z.object({
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: port(3000),
  OPS_PORT: port(3001),
  PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  METADATA_STORE: z.enum(['sqlite', 'mongodb'], { message: 'must be sqlite or mongodb' }).default('sqlite'),
  BLOB_STORE: z.enum(['filesystem', 'azure'], { message: 'must be filesystem or azure' }).default('filesystem'),
  DATA_DIR: z.preprocess(unsetIfEmpty, z.string().min(1).optional()),
  MONGO_URL: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\//, 'must start with mongodb:// or mongodb+srv://')
    .default('mongodb://127.0.0.1:27017'),
  MONGO_DB: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,63}$/)
    .default('one-time'),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
    .default('redis://127.0.0.1:6379'),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/)
    .default('one-time'),
  AZURE_STORAGE_CONNECTION_STRING: z.string().min(1).default(AZURITE_DEV_CONNECTION_STRING),
  AZURE_CONTAINER: z
    .string()
    .regex(/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/, 'must be a valid Azure container name')
    .default('one-time-files'),
  MAX_UPLOAD_SIZE: size('2GiB'),
  MAX_FILES_PER_UPLOAD: positiveInt(100),
  TTL_MIN: duration('1m'),
  TTL_DEFAULT: duration('24h'),
  TTL_MAX: duration('7d'),
  DOWNLOADS_DEFAULT: positiveInt(1),
  DOWNLOADS_MAX: positiveInt(100),
  UPLOAD_DEADLINE: duration('6h'),
  STREAM_LEASE: duration('2m'),
  RESUME_WINDOW: duration('1h'),
  SWEEP_INTERVAL: duration('30s'),
  RECONCILE_INTERVAL: duration('1h'),
  ORPHAN_GRACE: duration('1h'),
  RATE_LIMIT_WINDOW: duration('1m'),
  RATE_LIMIT_UPLOADS: positiveInt(60),
  RATE_LIMIT_DOWNLOADS: positiveInt(600),
  RATE_LIMIT_REVOKES: positiveInt(60),
  TRUST_PROXY: z
    .string()
    .default('false')
    .refine(
      (text) => /^(true|false|\d+)$/.test(text) || text.split(',').every((item) => isProxyAddress(item.trim())),
      'must be true, false, a hop count, or a comma list of addresses, subnets, loopback, linklocal, uniquelocal',
    )
    .transform((text): boolean | number | string =>
      text === 'false' ? false : text === 'true' ? true : /^\d+$/.test(text) ? Number(text) : text,
    ),
  ALLOWED_TYPES: typeList,
  DENIED_TYPES: typeList,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SHUTDOWN_TIMEOUT: duration('30s'),
  HEADERS_TIMEOUT: duration('10s'),
  IDLE_TIMEOUT: duration('30s'),
  UPLOADS_IN_FLIGHT_PER_CLIENT: positiveInt(4),
  METRICS_TOKEN: secret(16),
  DASHBOARD_ENABLED: flag('false'),
  DASHBOARD_ACTIONS: flag('false'),
  DASHBOARD_USER: z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .regex(/^[\x21-\x39\x3b-\x7e]{1,64}$/, 'must be 1 to 64 printable characters without spaces or ":"')
      .optional(),
  ),
  DASHBOARD_PASSWORD: secret(16),
  DASHBOARD_TOKEN: secret(16),
});

/** Every variable the apps read: the compose file and the README are checked against this list. */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(envSchema.shape);

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly opsPort: number;
  /** Base of the links handed out, without a trailing slash; unset means the address the API listens on. */
  readonly publicUrl: string | undefined;
  /** Where records live: the embedded SQLite file (the default) or MongoDB (scale-out). */
  readonly metadata: MetadataStoreConfig;
  /** Where file bytes live: the local folder (the default) or Azure Blob Storage (scale-out). */
  readonly blobs: BlobStoreConfig;
  /**
   * The folder of the embedded stores, when either is selected. `create`: it is the default folder, made on
   * first start; a folder set through DATA_DIR must already exist, so a typo cannot start an empty store.
   */
  readonly dataDir: { readonly path: string; readonly create: boolean } | undefined;
  readonly redis: { readonly url: string; readonly queuePrefix: string };
  readonly limits: Limits;
  readonly timing: Timing;
  /** Requests per client IP and window, shared by all replicas through Redis. */
  readonly rateLimits: {
    readonly windowMs: number;
    readonly uploads: number;
    readonly downloads: number;
    readonly revokes: number;
  };
  /**
   * Slow or stalled clients: all request headers within `headersMs`; a connection on which nothing moves for
   * `idleMs` is cut (an upload at any steady speed is never cut, however long it takes); at most
   * `uploadsPerClient` uploads in flight per client IP and API process.
   */
  readonly connections: { readonly headersMs: number; readonly idleMs: number; readonly uploadsPerClient: number };
  /** Express `trust proxy`: false, true, a hop count, or addresses/subnets of the proxies in front. */
  readonly trustProxy: boolean | number | string;
  /** Sniffed content types accepted; an empty allow-list accepts every type not denied. */
  readonly types: { readonly allowed: readonly string[]; readonly denied: readonly string[] };
  readonly logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  readonly ops: Ops;
}

/** Operations: shutdown, metrics and the worker's dashboard. Secrets have no defaults. */
export interface Ops {
  /** How long a stopping process waits for in-flight transfers (API) or the current job (worker). */
  readonly shutdownTimeoutMs: number;
  /** Bearer token for `/metrics`; unset: the API's public port does not serve it, the ops port serves it openly. */
  readonly metricsToken: string | undefined;
  readonly dashboard: {
    readonly enabled: boolean;
    /** Retry and clean jobs from the dashboard; otherwise it is read-only. */
    readonly actions: boolean;
    readonly basic: { readonly user: string; readonly password: string } | undefined;
    readonly token: string | undefined;
  };
}

export type MetadataStoreConfig =
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'mongodb'; readonly url: string; readonly database: string };

export type BlobStoreConfig =
  | { readonly kind: 'filesystem'; readonly root: string }
  | { readonly kind: 'azure'; readonly connectionString: string; readonly container: string };

/** The data folder when DATA_DIR is unset, relative to the working directory (the repository for `npm start`). */
export const DEFAULT_DATA_DIR = '.data/store';

export interface Limits {
  readonly maxUploadBytes: number;
  readonly maxFilesPerUpload: number;
  /** The shortest `ttl` a client may ask for. */
  readonly ttlMinMs: number;
  readonly ttlDefaultMs: number;
  readonly ttlMaxMs: number;
  readonly downloadsDefault: number;
  readonly downloadsMax: number;
}

export interface Timing {
  /** An upload that has not finished by then is swept away. */
  readonly uploadDeadlineMs: number;
  /** A download stream refreshes its lease; a lease older than this belongs to a stream that died. */
  readonly streamLeaseMs: number;
  /** How long a claimed download may be resumed (never past the file's own expiry). */
  readonly resumeWindowMs: number;
  readonly sweepIntervalMs: number;
  readonly reconcileIntervalMs: number;
  /** Blobs with no record are only removed once they are older than this. */
  readonly orphanGraceMs: number;
}

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Parses the environment once, at start-up. Throws `ConfigError` naming every bad variable. */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  const e = parsed.data;
  const problems: string[] = [];
  if (e.TTL_DEFAULT > e.TTL_MAX) problems.push('TTL_DEFAULT: must not be longer than TTL_MAX');
  if (e.TTL_MIN > e.TTL_DEFAULT) problems.push('TTL_MIN: must not be longer than TTL_DEFAULT');
  if (e.DOWNLOADS_DEFAULT > e.DOWNLOADS_MAX) problems.push('DOWNLOADS_DEFAULT: must not be more than DOWNLOADS_MAX');
  if ((e.DASHBOARD_USER === undefined) !== (e.DASHBOARD_PASSWORD === undefined)) {
    problems.push('DASHBOARD_USER, DASHBOARD_PASSWORD: set both or neither');
  }
  if (e.DASHBOARD_ENABLED && e.DASHBOARD_TOKEN === undefined && e.DASHBOARD_PASSWORD === undefined) {
    problems.push('DASHBOARD_ENABLED: the dashboard needs DASHBOARD_TOKEN or DASHBOARD_USER and DASHBOARD_PASSWORD');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const dataDir = resolve(e.DATA_DIR ?? DEFAULT_DATA_DIR);

  return {
    host: e.HOST,
    port: e.PORT,
    opsPort: e.OPS_PORT,
    publicUrl: e.PUBLIC_URL?.replace(/\/+$/, ''),
    metadata:
      e.METADATA_STORE === 'sqlite'
        ? { kind: 'sqlite', path: resolve(dataDir, 'metadata.sqlite') }
        : { kind: 'mongodb', url: e.MONGO_URL, database: e.MONGO_DB },
    blobs:
      e.BLOB_STORE === 'filesystem'
        ? { kind: 'filesystem', root: resolve(dataDir, 'blobs') }
        : { kind: 'azure', connectionString: e.AZURE_STORAGE_CONNECTION_STRING, container: e.AZURE_CONTAINER },
    dataDir:
      e.METADATA_STORE === 'sqlite' || e.BLOB_STORE === 'filesystem'
        ? { path: dataDir, create: e.DATA_DIR === undefined }
        : undefined,
    redis: { url: e.REDIS_URL, queuePrefix: e.QUEUE_PREFIX },
    limits: {
      maxUploadBytes: e.MAX_UPLOAD_SIZE,
      maxFilesPerUpload: e.MAX_FILES_PER_UPLOAD,
      ttlMinMs: e.TTL_MIN,
      ttlDefaultMs: e.TTL_DEFAULT,
      ttlMaxMs: e.TTL_MAX,
      downloadsDefault: e.DOWNLOADS_DEFAULT,
      downloadsMax: e.DOWNLOADS_MAX,
    },
    types: { allowed: e.ALLOWED_TYPES, denied: e.DENIED_TYPES },
    rateLimits: {
      windowMs: e.RATE_LIMIT_WINDOW,
      uploads: e.RATE_LIMIT_UPLOADS,
      downloads: e.RATE_LIMIT_DOWNLOADS,
      revokes: e.RATE_LIMIT_REVOKES,
    },
    trustProxy: e.TRUST_PROXY,
    connections: { headersMs: e.HEADERS_TIMEOUT, idleMs: e.IDLE_TIMEOUT, uploadsPerClient: e.UPLOADS_IN_FLIGHT_PER_CLIENT },
    timing: {
      uploadDeadlineMs: e.UPLOAD_DEADLINE,
      streamLeaseMs: e.STREAM_LEASE,
      resumeWindowMs: e.RESUME_WINDOW,
      sweepIntervalMs: e.SWEEP_INTERVAL,
      reconcileIntervalMs: e.RECONCILE_INTERVAL,
      orphanGraceMs: e.ORPHAN_GRACE,
    },
    logLevel: e.LOG_LEVEL,
    ops: {
      shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT,
      metricsToken: e.METRICS_TOKEN,
      dashboard: {
        enabled: e.DASHBOARD_ENABLED,
        actions: e.DASHBOARD_ACTIONS,
        basic:
          e.DASHBOARD_USER !== undefined && e.DASHBOARD_PASSWORD !== undefined
            ? { user: e.DASHBOARD_USER, password: e.DASHBOARD_PASSWORD }
            : undefined,
        token: e.DASHBOARD_TOKEN,
      },
    },
  };
}
