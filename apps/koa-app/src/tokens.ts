// Where the app's secrets come from: given to start(), else the environment. Kept in its own file so the
// rule is easy to find and to change when you copy the app.
import { randomBytes } from 'node:crypto'

/** The secrets the app checks: `Authorization: Bearer <token>` on `POST /publish` and `/events-private`. */
export interface Secrets {
  publishToken: string
  eventsToken: string
  /** Origins besides the app's own whose pages may publish. */
  allowedOrigins: string[]
}

/**
 * Resolves the secrets: values given to `start()` win, then `PUBLISH_TOKEN`, `EVENTS_TOKEN` and
 * `ALLOWED_ORIGINS` (comma-separated) from the environment. A missing token stops the app in production
 * (`NODE_ENV=production`); in development a random one is made and printed once, loudly, so the demo page
 * and curl can use it.
 */
export function resolveSecrets(given: Partial<Secrets>, env = process.env): Secrets {
  const made: string[] = []
  const token = (name: 'PUBLISH_TOKEN' | 'EVENTS_TOKEN', value: string | undefined): string => {
    const configured = value ?? env[name]
    if (configured) return configured
    if (env.NODE_ENV === 'production') {
      throw new Error(
        `${name} is not set: refusing to start in production without it (README: "Securing /publish")`,
      )
    }
    const random = randomBytes(18).toString('base64url')
    made.push(`  ${name}=${random}`)
    return random
  }
  const secrets = {
    publishToken: token('PUBLISH_TOKEN', given.publishToken),
    eventsToken: token('EVENTS_TOKEN', given.eventsToken),
    allowedOrigins:
      given.allowedOrigins ??
      (env.ALLOWED_ORIGINS ?? '')
        .split(',')
        .map((origin) => origin.trim())
        .filter(Boolean),
  }
  if (made.length > 0) {
    const rule = '='.repeat(72)
    console.log(
      [
        rule,
        'No token configured: made up for this run (set them in the environment to keep them):',
        ...made,
        rule,
      ].join('\n'),
    )
  }
  return secrets
}
