// The dashboard page: plain DOM, no framework. Build events come over the browser's EventSource; the
// metrics strip reads a second stream with @herald/sse-client, served by the dashboard as /sse-client.js.
import { connect } from '/sse-client.js'

// Events only change `state`; one requestAnimationFrame callback per frame writes everything to the DOM,
// so ten builds logging hundreds of lines a second cost one DOM update per frame, not one per line.

const MAX_DOM_LINES = 500 // per build card; older lines leave the view (and are counted)
const MAX_CARDS = 24
const STAGES = ['checkout', 'install', 'test', 'deploy']

const $ = (id) => document.getElementById(id)
const fmt = new Intl.NumberFormat('en')

const state = {
  /** @type {Map<string, any>} build id → model */
  builds: new Map(),
  lastEventId: '',
  everOpened: false,
  dropped: false,
  /** While a snapshot is being fetched, build events wait here (and are deduplicated against it). */
  syncing: null,
  buffer: [],
  gaps: 0,
  duplicates: 0,
  connection: { state: 'connecting', text: 'connecting…' },
  metrics: null,
  metricsStatus: { state: 'connecting', text: 'connecting…' },
}

// What the next frame must write.
const dirty = {
  cards: new Set(),
  metrics: false,
  metricsStatus: false,
  connection: true,
  integrity: false,
  order: false,
}
let frameRequested = false

// Counters a test (or a curious reader in DevTools) can look at.
const stats = {
  frames: 0,
  domUpdates: 0,
  linesRendered: 0,
  maxLinesPerFrame: 0,
  renderMs: 0,
  maxRenderMs: 0,
  events: 0,
  logEvents: 0,
}
window.__dashboard = { state, stats }

function schedule() {
  if (frameRequested) return
  frameRequested = true
  requestAnimationFrame(render)
}

// ---------------------------------------------------------------- stream

const source = new EventSource('/events')

source.addEventListener('open', () => {
  if (state.everOpened && state.lastEventId) {
    // The browser sent Last-Event-ID; the hub replays what we missed before anything new.
    setConnection('resumed', `resumed from id ${state.lastEventId}`)
  } else {
    setConnection('live', 'live')
    sync()
  }
  state.everOpened = true
  state.dropped = false
})

source.addEventListener('error', () => {
  if (source.readyState === EventSource.CLOSED) setConnection('offline', 'offline (reload to retry)')
  else if (!state.dropped) setConnection('reconnecting', 'reconnecting…')
})

/** Listens for one event type; `json`: its data is JSON (ours are; the hub's own events carry text). */
function on(name, handler, json = true) {
  source.addEventListener(name, (e) => {
    stats.events++
    if (e.lastEventId) state.lastEventId = e.lastEventId
    handler(json ? JSON.parse(e.data) : e.data)
    dirty.metrics = true
    schedule()
  })
}

for (const name of ['build-started', 'stage', 'progress', 'log', 'build-finished']) {
  on(name, (data) => {
    if (state.syncing) state.buffer.push([name, data])
    else applyBuildEvent(name, data, false)
  })
}
// The metrics stream, read with @herald/sse-client. Metrics come every second, so five silent seconds
// mean a dead connection (a sleeping laptop, a proxy that lost the flow): the watchdog reconnects.
const metricsStream = connect('/events/metrics', {
  parse: { metrics: 'json' },
  watchdogMs: 5000,
  onOpen: () => setMetricsStatus('live', 'live'),
  onReconnecting: ({ reason, delayMs }) =>
    setMetricsStatus('reconnecting', `reconnecting in ${(delayMs / 1000).toFixed(1)} s (${reason.code})`),
  onError: (error) => setMetricsStatus('stopped', `stopped: ${error.message}`),
})
metricsStream.on('metrics', (data) => {
  state.metrics = data
  dirty.metrics = true
  schedule()
})
on('connected', () => {}, false)
// The hub could not replay from our Last-Event-ID (history gone, or a new server without it): reload state.
on(
  'reset',
  () => {
    setConnection('reset', 'history unavailable: state reloaded')
    sync()
  },
  false,
)
on(
  'shutdown',
  () => {
    state.dropped = true
    setConnection('reconnecting', 'server restarting…')
  },
  false,
)
on(
  'slow-consumer',
  () => {
    state.dropped = true
    setConnection('reconnecting', 'too slow: server dropped us, resuming…')
  },
  false,
)

function setMetricsStatus(s, text) {
  state.metricsStatus = { state: s, text }
  dirty.metricsStatus = true
  schedule()
}

function setConnection(s, text) {
  state.connection = { state: s, text }
  dirty.connection = true
  schedule()
}

// ---------------------------------------------------------------- state

/** Fetches every build's current state; events that arrive meanwhile are applied after it. */
async function sync() {
  if (state.syncing) return state.syncing
  state.buffer = []
  state.syncing = (async () => {
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await fetch('/api/builds', { cache: 'no-store' })
        if (!res.ok) throw new Error(`GET /api/builds answered ${res.status}`)
        applySnapshot(await res.json())
        break
      } catch (err) {
        if (attempt === 4) {
          showError(`Could not load builds: ${err.message}`)
          break
        }
        await new Promise((r) => setTimeout(r, 500 * (attempt + 1)))
      }
    }
    const buffered = state.buffer
    state.buffer = []
    state.syncing = null
    for (const [name, data] of buffered) applyBuildEvent(name, data, true)
    schedule()
  })()
  return state.syncing
}

function applySnapshot(snapshot) {
  const seen = new Set()
  for (const b of snapshot.builds) {
    seen.add(b.id)
    const model = state.builds.get(b.id) ?? createModel(b)
    Object.assign(model, {
      name: b.name,
      status: b.status,
      stage: b.stage,
      percent: b.percent,
      durationSeconds: b.durationSeconds,
    })
    if (model.lastSeq < b.lines) {
      const fresh = b.tail.filter((l) => l.seq > model.lastSeq)
      // Joined mid-build: the snapshot carries the last lines only. Not a gap, just history not asked for.
      if (fresh.length && fresh[0].seq > model.lastSeq + 1)
        model.pending.push({ earlier: fresh[0].seq - 1 - model.lastSeq })
      model.pending.push(...fresh)
      model.lastSeq = b.lines
    }
    dirty.cards.add(b.id)
  }
  for (const model of state.builds.values()) {
    if (!seen.has(model.id) && model.status === 'running') {
      model.status = 'lost'
      dirty.cards.add(model.id)
    }
  }
  dirty.order = true
}

function createModel(b) {
  const model = {
    id: b.id,
    name: b.name,
    status: b.status ?? 'running',
    stage: b.stage ?? 'checkout',
    percent: b.percent ?? 0,
    durationSeconds: b.durationSeconds,
    startedAt: b.startedAt ?? Date.now(),
    lastSeq: 0,
    /** Lines (or `{ skipped: n }` / `{ earlier: n }` markers) waiting for the next frame. */
    pending: [],
    rendered: 0,
    trimmed: 0,
    el: null,
  }
  state.builds.set(b.id, model)
  dirty.order = true
  return model
}

/** `afterSnapshot`: the event was buffered while a snapshot loaded, so what the snapshot has is skipped. */
function applyBuildEvent(name, data, afterSnapshot) {
  const id = name === 'build-started' ? data.id : data.build
  let model = state.builds.get(id)
  if (!model) {
    model = createModel(name === 'build-started' ? data : { id, name: id })
    // Joined mid-build: number lines from here on.
    if (name === 'log') model.lastSeq = data.seq - 1
  }
  switch (name) {
    case 'build-started':
      break
    case 'stage':
      if (STAGES.indexOf(data.stage) > STAGES.indexOf(model.stage)) model.stage = data.stage
      break
    case 'progress':
      model.percent = Math.max(model.percent, data.percent)
      break
    case 'build-finished':
      model.status = data.status
      model.percent = Math.max(model.percent, data.percent)
      break
    case 'log': {
      stats.logEvents++
      if (data.seq <= model.lastSeq) {
        if (afterSnapshot) return // already in the snapshot
        // A line we already have: the stream repeated itself. Show it, marked, and count it.
        state.duplicates++
        dirty.integrity = true
        model.pending.push({ ...data, duplicate: true })
        break
      }
      if (data.seq > model.lastSeq + 1) {
        state.gaps++
        dirty.integrity = true
        model.pending.push({ skipped: data.seq - 1 - model.lastSeq })
      }
      model.lastSeq = data.seq
      model.pending.push(data)
      // A hidden tab gets no frames: keep only what could still be shown.
      if (model.pending.length > 2 * MAX_DOM_LINES) {
        model.trimmed += model.pending.length - MAX_DOM_LINES
        model.pending = model.pending.slice(-MAX_DOM_LINES)
      }
      break
    }
  }
  dirty.cards.add(id)
}

// ---------------------------------------------------------------- rendering (once per frame)

function render() {
  const started = performance.now()
  frameRequested = false
  stats.frames++
  let lines = 0
  let touched = false

  if (dirty.order) {
    dirty.order = false
    touched = true
    orderCards()
  }
  // Read every log panel's scroll position before writing any, so the frame lays out once.
  const cards = [...dirty.cards].map((id) => state.builds.get(id)).filter((m) => m?.el)
  dirty.cards.clear()
  const pinned = cards.map((m) => {
    const log = m.el.log
    return log.scrollTop + log.clientHeight >= log.scrollHeight - 8
  })
  for (const model of cards) {
    touched = true
    lines += updateCard(model)
  }
  cards.forEach((model, i) => {
    if (pinned[i]) model.el.log.scrollTop = model.el.log.scrollHeight
  })
  if (dirty.metrics) {
    dirty.metrics = false
    touched = true
    renderMetrics()
  }
  if (dirty.metricsStatus) {
    dirty.metricsStatus = false
    touched = true
    const status = $('metrics-status')
    status.dataset.state = state.metricsStatus.state
    setText(status, state.metricsStatus.text)
  }
  if (dirty.connection) {
    dirty.connection = false
    touched = true
    const badge = $('connection')
    badge.dataset.state = state.connection.state
    badge.textContent = state.connection.text
  }
  if (dirty.integrity) {
    dirty.integrity = false
    touched = true
    const el = $('integrity')
    el.textContent = `log integrity: ${state.gaps} gaps · ${state.duplicates} duplicates`
    el.classList.toggle('bad', state.gaps + state.duplicates > 0)
  }
  if (touched) stats.domUpdates++
  stats.linesRendered += lines
  stats.maxLinesPerFrame = Math.max(stats.maxLinesPerFrame, lines)
  const ms = performance.now() - started
  stats.renderMs += ms
  stats.maxRenderMs = Math.max(stats.maxRenderMs, ms)
}

function orderCards() {
  const container = $('builds')
  const models = [...state.builds.values()].sort((a, b) => b.startedAt - a.startedAt) // newest first
  for (const stale of models.slice(MAX_CARDS)) {
    if (stale.status === 'running') continue
    stale.el?.root.remove()
    state.builds.delete(stale.id)
  }
  let before = container.firstElementChild
  for (const model of models.slice(0, MAX_CARDS)) {
    if (!model.el) {
      model.el = createCard(model)
      dirty.cards.add(model.id)
    }
    if (model.el.root !== before) container.insertBefore(model.el.root, before)
    before = model.el.root.nextElementSibling
  }
  $('empty').hidden = state.builds.size > 0
}

/** Writes only what changed: an unchanged text still costs a relayout when assigned. */
function setText(node, text) {
  if (node.textContent !== text) node.textContent = text
}

function el(tag, className, text) {
  const node = document.createElement(tag)
  if (className) node.className = className
  if (text !== undefined) node.textContent = text
  return node
}

function createCard(model) {
  const root = el('article', 'build')
  root.dataset.build = model.id
  const head = el('header', 'build-head')
  const title = el('h2', 'build-name', model.name)
  const status = el('span', 'status')
  head.append(title, status)

  const stages = el('ol', 'stages')
  const stageEls = STAGES.map((s) => {
    const li = el('li', '', s)
    li.dataset.stage = s
    stages.append(li)
    return li
  })

  const progress = el('div', 'progress')
  progress.setAttribute('role', 'progressbar')
  progress.setAttribute('aria-valuemin', '0')
  progress.setAttribute('aria-valuemax', '100')
  progress.setAttribute('aria-label', `${model.name} progress`)
  const fill = el('div', 'fill')
  const pct = el('span', 'pct', '0%')
  progress.append(fill, pct)

  const log = el('div', 'log')
  log.tabIndex = 0
  log.setAttribute('aria-label', `${model.name} log`)
  const meta = el('footer', 'log-meta')

  root.append(head, stages, progress, log, meta)
  return { root, title, status, stageEls, progress, fill, pct, log, meta, percent: -1 }
}

function updateCard(model) {
  const e = model.el
  if (e.root.dataset.status !== model.status) e.root.dataset.status = model.status
  setText(e.title, model.name)
  setText(e.status, model.status)
  const stageIndex = STAGES.indexOf(model.stage)
  e.stageEls.forEach((li, i) => {
    const cls = i < stageIndex || model.status === 'succeeded' ? 'done' : i === stageIndex ? 'active' : ''
    if (li.className !== cls) li.className = cls
  })
  if (e.percent !== model.percent) {
    e.percent = model.percent
    e.progress.setAttribute('aria-valuenow', String(model.percent))
    e.fill.style.transform = `scaleX(${model.percent / 100})`
    e.pct.textContent = `${model.percent}%`
  }

  let lines = model.pending
  model.pending = []
  // After a long stall (a background tab), only the lines that would stay in view are worth creating.
  if (lines.length > MAX_DOM_LINES) {
    model.trimmed += lines.length - MAX_DOM_LINES
    lines = lines.slice(-MAX_DOM_LINES)
  }
  if (lines.length) {
    const frag = document.createDocumentFragment()
    for (const line of lines) frag.append(lineElement(line))
    e.log.append(frag)
    model.rendered += lines.length
    const excess = model.rendered - MAX_DOM_LINES
    if (excess > 0) {
      for (let i = 0; i < excess; i++) e.log.firstElementChild?.remove()
      model.rendered -= excess
      model.trimmed += excess
    }
  }
  setText(
    e.meta,
    `${fmt.format(model.lastSeq)} lines` +
      (model.trimmed ? ` · ${fmt.format(model.trimmed)} older lines trimmed from view` : '') +
      (model.durationSeconds ? ` · ${model.durationSeconds}s build` : ''),
  )
  return lines.length
}

function lineElement(line) {
  if (line.earlier !== undefined)
    return el('div', 'log-earlier', `… ${fmt.format(line.earlier)} earlier lines …`)
  if (line.skipped !== undefined) return el('div', 'log-gap', `… ${line.skipped} line(s) not received …`)
  // One element and one text node per line (CSS draws the prefix): ten busy logs stay cheap to lay out.
  const row = el('div', `log-line ${line.level}${line.duplicate ? ' duplicate' : ''}`, line.text)
  row.dataset.seq = String(line.seq)
  row.dataset.prefix = `${String(line.seq).padStart(5)}  ${line.stage.padEnd(9)}`
  return row
}

function renderMetrics() {
  const m = state.metrics
  setText($('m-last-id'), state.lastEventId || '–')
  if (!m) return
  setText($('m-clients'), fmt.format(m.clients))
  setText($('m-events'), fmt.format(m.eventsPerSecond))
  setText($('m-delivered'), fmt.format(m.deliveredPerSecond))
  setText($('m-running'), fmt.format(m.runningBuilds))
  setText($('m-replayed'), fmt.format(m.replayed))
  setText($('m-dropped'), fmt.format(m.dropped))
  setText($('m-slow'), fmt.format(m.slowConsumerDisconnects))
}

// ---------------------------------------------------------------- controls

function showError(message) {
  $('error-text').textContent = message
  $('error').hidden = false
}
$('error-close').addEventListener('click', () => {
  $('error').hidden = true
})

$('start-form').addEventListener('submit', async (event) => {
  event.preventDefault()
  const name = $('build-name').value.trim()
  const button = $('start-build')
  button.disabled = true
  try {
    const res = await fetch('/builds', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(name ? { name } : {}),
    })
    const body = await res.json().catch(() => ({}))
    if (!res.ok) {
      showError(`Build not started (${res.status}): ${body.error ?? res.statusText}`)
      return
    }
    $('error').hidden = true
    $('build-name').value = ''
  } catch (err) {
    showError(`Build not started: ${err.message}`)
  } finally {
    button.disabled = false
  }
})

fetch('/api/info')
  .then((res) => res.json())
  .then((info) => {
    $('served-by').textContent = `Served by ${info.summary} · adapter ${info.adapter}`
  })
  .catch((err) => {
    $('served-by').textContent = `Served by: unknown (GET /api/info failed: ${err.message})`
  })
