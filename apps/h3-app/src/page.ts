// The demo page: an EventSource on /events?topic=demo that lists events as they arrive, and a form that
// POSTs to /publish with the publish token the server printed (kept in this tab's sessionStorage).
// Inline and dependency-free so the whole app stays in a few files.
export const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Herald SSE demo</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; }
  form { display: flex; flex-wrap: wrap; gap: .5rem; margin-bottom: 1rem; }
  input { flex: 1; min-width: 8rem; padding: .3rem; }
  #status { color: #666; }
  #events { list-style: none; padding: 0; font-family: ui-monospace, monospace; }
  #events li { border-bottom: 1px solid #eee; padding: .2rem 0; white-space: pre-wrap; }
</style>
</head>
<body>
<h1>Herald SSE demo</h1>
<p id="status">connecting…</p>
<form id="publish">
  <input name="token" type="password" placeholder="publish token (printed by the server)" autocomplete="off" required>
  <input name="event" placeholder="event (optional)">
  <input name="data" placeholder="data" required>
  <button>Publish</button>
</form>
<ul id="events"></ul>
<script>
  const list = document.getElementById('events')
  const status = document.getElementById('status')
  const show = (e) => {
    const item = document.createElement('li')
    item.dataset.id = e.lastEventId
    item.textContent = '#' + e.lastEventId + ' ' + e.type + ': ' + e.data
    list.prepend(item)
  }
  // The browser resends the last id it saw (Last-Event-ID) when it reconnects, so nothing is missed.
  const source = new EventSource('/events?topic=demo')
  source.onopen = () => { status.textContent = 'connected' }
  source.onerror = () => { status.textContent = 'reconnecting…' }
  source.onmessage = show
  // Named events only reach listeners for their name: listen to the usual ones and to any name sent below.
  const listening = new Set()
  const listen = (type) => {
    if (!listening.has(type)) source.addEventListener(type, show)
    listening.add(type)
  }
  for (const type of ['greeting', 'reset', 'shutdown']) listen(type)
  const publish = document.getElementById('publish')
  publish.token.value = sessionStorage.getItem('publish-token') ?? ''
  publish.onsubmit = async (submit) => {
    submit.preventDefault()
    const form = new FormData(submit.target)
    sessionStorage.setItem('publish-token', form.get('token'))
    const body = { topic: 'demo', data: form.get('data') }
    if (form.get('event')) listen((body.event = form.get('event')))
    const res = await fetch('/publish', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer ' + form.get('token') },
      body: JSON.stringify(body),
    })
    if (!res.ok) status.textContent = 'publish refused: ' + (await res.json()).error
  }
</script>
</body>
</html>
`
