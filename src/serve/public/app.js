// Search page: everything from documents is put in the page as text nodes, never as HTML.
const $ = (id) => document.getElementById(id);

function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  Object.assign(node, props);
  for (const child of children) node.append(child);
  return node;
}

const pageLabel = (c) => (c.page ? `p. ${c.page}` : null);

function describe(c) {
  return [c.title, c.date, c.source, pageLabel(c)].filter(Boolean).join(' · ');
}

function viewLink(docId, start, end, label) {
  const params = new URLSearchParams({ view: docId, start: String(start), end: String(end) });
  const q = new URLSearchParams(location.search).get('q');
  if (q) params.set('q', q);
  return el('a', { href: `/?${params}`, className: 'open', textContent: label });
}

async function api(path) {
  const response = await fetch(path);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error ? body.error.message : `HTTP ${response.status}`);
  return body;
}

function passage(hit) {
  // Highlight the best sentence inside the passage, by offsets relative to the passage start.
  const from = hit.sentence.start - hit.start;
  const to = hit.sentence.end - hit.start;
  return el('p', {}, [hit.text.slice(0, from), el('mark', { textContent: hit.text.slice(from, to) }), hit.text.slice(to)]);
}

async function search(q, doc) {
  $('status').textContent = 'Searching…';
  $('results').replaceChildren();
  $('answer').hidden = true;
  const params = new URLSearchParams({ q });
  if (doc) params.set('doc', doc);
  try {
    const data = await api(`/api/search?${params}`);
    $('status').textContent = data.results.length ? `${data.results.length} passages` : 'No passages match.';
    if (data.answer) {
      const c = data.answer.citation;
      $('answer-text').textContent = data.answer.text;
      $('answer-cite').replaceChildren(`${describe(c)} · `, viewLink(c.docId, c.start, c.end, 'Open in document'));
      $('answer').hidden = false;
    }
    for (const hit of data.results) {
      $('results').append(
        el('li', { className: 'result' }, [
          el('h3', { textContent: hit.title }),
          el('p', { className: 'meta', textContent: `${[hit.date, hit.source, pageLabel(hit)].filter(Boolean).join(' · ')} · characters ${hit.start}–${hit.end} · score ${hit.score.toFixed(2)}` }),
          passage(hit),
          viewLink(hit.docId, hit.start, hit.end, 'Open in document'),
        ]),
      );
    }
  } catch (error) {
    $('status').textContent = `Search failed: ${error.message}`;
  }
}

async function showDocument(docId, start, end) {
  $('results').replaceChildren();
  $('answer').hidden = true;
  $('document').hidden = false;
  const q = new URLSearchParams(location.search).get('q');
  $('back').href = q ? `/?${new URLSearchParams({ q })}` : '/';
  try {
    const doc = await api(`/api/docs/${encodeURIComponent(docId)}`);
    $('doc-title').textContent = doc.title;
    $('doc-meta').textContent = [doc.date, doc.publisher, doc.source].filter(Boolean).join(' · ');
    const text = doc.text;
    const valid = Number.isInteger(start) && Number.isInteger(end) && start >= 0 && end <= text.length && start < end;
    const mark = valid ? el('mark', { id: 'cited', textContent: text.slice(start, end) }) : null;
    $('doc-text').replaceChildren(valid ? el('p', {}, [text.slice(0, start), mark, text.slice(end)]) : el('p', { textContent: text }));
    if (mark) mark.scrollIntoView({ block: 'center' });
  } catch (error) {
    $('status').textContent = `Could not open the document: ${error.message}`;
  }
}

async function init() {
  const params = new URLSearchParams(location.search);
  try {
    const docs = await api('/api/docs');
    for (const d of docs) $('doc').append(el('option', { value: d.id, textContent: d.title }));
  } catch (error) {
    $('status').textContent = `Could not list documents: ${error.message}`;
  }
  $('q').value = params.get('q') || '';
  $('doc').value = params.get('doc') || '';
  $('search').addEventListener('submit', (event) => {
    event.preventDefault();
    const q = $('q').value.trim();
    if (!q) return;
    const next = new URLSearchParams({ q });
    if ($('doc').value) next.set('doc', $('doc').value);
    // The query lives in the URL, so a search can be shared or bookmarked.
    history.pushState(null, '', `/?${next}`);
    $('document').hidden = true;
    search(q, $('doc').value);
  });
  window.addEventListener('popstate', () => location.reload());
  if (params.get('view')) showDocument(params.get('view'), Number(params.get('start')), Number(params.get('end')));
  else if (params.get('q')) search(params.get('q'), params.get('doc'));
}

init();
