// Search page: everything from documents is put in the page as text nodes, never as HTML.
const $ = (id) => document.getElementById(id);
/** The search parameters the page keeps in its URL, so a search can be shared or bookmarked. */
const FIELDS = ['q', 'doc', 'from', 'to'];

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

/** The current search's parameters (from the URL), for links that lead back to it. */
function currentSearch() {
  const params = new URLSearchParams(location.search);
  const kept = new URLSearchParams();
  for (const f of FIELDS) if (params.get(f)) kept.set(f, params.get(f));
  return kept;
}

function viewLink(docId, start, end, label) {
  const params = currentSearch();
  params.set('view', docId);
  if (start !== undefined) {
    params.set('start', String(start));
    params.set('end', String(end));
  }
  return el('a', { href: `/?${params}`, className: 'open', textContent: label });
}

/** A citation as the page writes it: where it is from, and a link that opens it in its document. */
const citationLine = (c) => [`${describe(c)} · `, viewLink(c.docId, c.start, c.end, 'Open in document')];

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

const CITE_FORMATS = [['text', 'Reference (APA)'], ['bibtex', 'BibTeX'], ['ris', 'RIS'], ['csl', 'CSL-JSON']];

/**
 * "Cite" for a document: a disclosure (reached by keyboard) with a format, the reference as text to
 * read or select, and a button that copies it to the clipboard.
 */
function citeBox(docId) {
  const format = el('select', {}, CITE_FORMATS.map(([value, label]) => el('option', { value, textContent: label })));
  format.setAttribute('aria-label', 'Citation format');
  const reference = el('pre', { className: 'reference', tabIndex: 0 });
  const said = el('span', { className: 'said', role: 'status' });
  const copy = el('button', { type: 'button', textContent: 'Copy' });
  const load = async () => {
    said.textContent = '';
    const response = await fetch(`/api/docs/${encodeURIComponent(docId)}/cite?format=${format.value}`);
    reference.textContent = response.ok ? await response.text() : `Could not make the reference (HTTP ${response.status}).`;
  };
  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(reference.textContent);
      said.textContent = 'Copied.';
    } catch {
      said.textContent = 'Could not copy: select the reference and copy it.';
    }
  });
  format.addEventListener('change', load);
  const box = el('details', { className: 'cite-box' }, [el('summary', { textContent: 'Cite' }), el('div', { className: 'cite-controls' }, [format, copy, said]), reference]);
  box.addEventListener('toggle', () => box.open && !reference.textContent && load());
  return box;
}

/** Links that download the current search with the fields batch writes. */
function downloads(params) {
  const link = (format, label) => el('a', { href: `/api/export?${params}&format=${format}`, download: `search.${format}`, textContent: label });
  return [link('csv', 'Download CSV'), ' · ', link('json', 'Download JSON')];
}

/**
 * The answer's score is the probability that it answers the question (README: "Answers"); a
 * researcher reads it as a word. At 0.5 and above most answers given were right when measured.
 */
const confidence = (score) => (score >= 0.5 ? 'Likely answer' : 'Uncertain answer');

/** Whether a period ("2016", "2016-05") lies within the From/To range (either may be empty). */
function inRange(period, from, to) {
  if (!from && !to) return false;
  return (!from || period >= from.slice(0, period.length)) && (!to || period <= to.slice(0, period.length));
}

/**
 * Counts by publication period as a bar chart of buttons (so each bar is reached by keyboard and
 * read out with its count); `pick` is called with a bar's period. Bars within `range` are marked.
 */
function drawTimeline(timeline, [one, many], pick, range = {}) {
  const counted = (n) => `${n} ${n === 1 ? one : many}`;
  const total = timeline.periods.reduce((n, p) => n + p.count, 0) + timeline.undated;
  $('timeline').hidden = total === 0;
  if (total === 0) return;
  const most = Math.max(1, ...timeline.periods.map((p) => p.count));
  const undated = timeline.undated ? ` · undated: ${timeline.undated}` : '';
  $('timeline-caption').textContent = `${counted(total)} by ${timeline.unit} of publication${undated}. Choose a ${timeline.unit} to see only it.`;
  // Labels on every bar when they fit; otherwise on about ten of them.
  const every = Math.ceil(timeline.periods.length / 10);
  $('timeline-bars').replaceChildren(
    ...timeline.periods.map((p, i) => {
      const fill = el('span', { className: 'fill' });
      fill.style.height = `${Math.round((100 * p.count) / most)}%`;
      const label = el('span', { className: 'label', textContent: i % every === 0 || i === timeline.periods.length - 1 ? p.period : '' });
      const bar = el('button', { type: 'button', className: `bar${inRange(p.period, range.from, range.to) ? ' selected' : ''}`, title: `${p.period}: ${counted(p.count)}` }, [el('span', { className: 'column' }, [fill]), label]);
      bar.setAttribute('aria-label', `${p.period}: ${counted(p.count)}`);
      bar.addEventListener('click', () => pick(p.period));
      return bar;
    }),
  );
}

/** A bar of the results' timeline: search again within its period. */
function searchPeriod(period) {
  $('from').value = period;
  $('to').value = period;
  $('search').requestSubmit();
}

async function search(params) {
  $('status').textContent = 'Searching…';
  $('results').replaceChildren();
  $('answer').hidden = true;
  $('no-answer').hidden = true;
  try {
    const data = await api(`/api/search?${params}`);
    $('status').replaceChildren(data.results.length ? `${data.results.length} passages · ` : 'No passages match.', ...(data.results.length ? downloads(params) : []));
    drawTimeline(data.timeline, ['matching passage', 'matching passages'], searchPeriod, { from: params.get('from'), to: params.get('to') });
    if (data.answer) {
      const c = data.answer.citation;
      $('answer-label').textContent = confidence(data.answer.score);
      $('answer-label').title = `Probability that this answers the question: ${Math.round(data.answer.score * 100)}%`;
      // A fact first, in bold, with the sentence that states it under it.
      $('answer-short').hidden = !data.answer.short;
      $('answer-short').textContent = data.answer.short ? data.answer.short.text : '';
      $('answer-text').textContent = data.answer.text;
      $('answer-cite').replaceChildren(...citationLine(c), citeBox(c.docId));
      // More sentences judged to answer a why or how question, each with its citation.
      $('answer-evidence').hidden = data.answer.evidence.length === 0;
      $('evidence-list').replaceChildren(
        ...data.answer.evidence.map((e) =>
          el('li', {}, [el('q', { textContent: e.text }), el('p', { className: 'cite' }, citationLine(e.citation))]),
        ),
      );
      $('answer').hidden = false;
    } else if (data.results.length) {
      $('no-answer').hidden = false;
    }
    for (const hit of data.results) {
      $('results').append(
        el('li', { className: 'result' }, [
          el('h2', { textContent: hit.title }),
          ...(hit.section ? [el('p', { className: 'section', textContent: hit.section })] : []),
          el('p', { className: 'meta', textContent: `${[hit.date, hit.source, pageLabel(hit)].filter(Boolean).join(' · ')} · characters ${hit.start}–${hit.end} · score ${hit.score.toFixed(2)}` }),
          passage(hit),
          viewLink(hit.docId, hit.start, hit.end, 'Open in document'),
          citeBox(hit.docId),
        ]),
      );
    }
  } catch (error) {
    $('status').textContent = `Search failed: ${error.message}`;
  }
}

/**
 * A document's text as nodes: a marker where each page begins ("p. 12", so a cited page can be
 * checked) and the cited span, if any, marked (in pieces when it crosses a page).
 */
function documentText(text, pageStarts, cited) {
  const cuts = new Set([0, text.length, ...pageStarts, ...(cited ?? [])]);
  const points = [...cuts].filter((x) => x >= 0 && x <= text.length).sort((a, b) => a - b);
  const nodes = [];
  for (const [i, at] of points.entries()) {
    pageStarts.forEach((s, p) => {
      if (s === at) nodes.push(el('span', { className: 'page', id: `page-${p + 1}`, textContent: `p. ${p + 1}` }));
    });
    const next = points[i + 1];
    if (next === undefined) break;
    const piece = text.slice(at, next);
    if (cited && at >= cited[0] && next <= cited[1]) nodes.push(el('mark', { textContent: piece, ...(at === cited[0] ? { id: 'cited' } : {}) }));
    else nodes.push(piece);
  }
  return nodes;
}

async function showDocument(docId, start, end) {
  $('timeline').hidden = true;
  $('results').replaceChildren();
  $('answer').hidden = true;
  $('no-answer').hidden = true;
  $('document').hidden = false;
  const back = currentSearch();
  $('back').href = `/?${back}`;
  $('back').textContent = back.get('q') ? '← Back to results' : '← Back to the documents';
  try {
    const doc = await api(`/api/docs/${encodeURIComponent(docId)}`);
    $('doc-title').textContent = doc.title;
    $('doc-meta').textContent = [doc.date, doc.publisher, doc.source].filter(Boolean).join(' · ');
    const text = doc.text;
    const valid = Number.isInteger(start) && Number.isInteger(end) && start >= 0 && end <= text.length && start < end;
    $('doc-text').replaceChildren(el('p', {}, documentText(text, doc.pageStarts ?? [], valid ? [start, end] : null)));
    const cited = $('cited');
    if (cited) cited.scrollIntoView({ block: 'center' });
  } catch (error) {
    $('status').textContent = `Could not open the document: ${error.message}`;
  }
}

/** Documents listed on the home page at most; a large archive is searched, not scrolled. */
const LISTED_DOCUMENTS = 500;

/** The archive's documents, newest first (undated last), each opening the document; only those of `period` when one is chosen. */
function showDocumentList(docs, period = null) {
  const shown = period ? docs.filter((d) => d.date && d.date.startsWith(period)) : docs;
  const byDate = [...shown].sort((a, b) => (b.date ?? '').localeCompare(a.date ?? '') || a.title.localeCompare(b.title));
  const more = byDate.length - LISTED_DOCUMENTS;
  const count = more > 0 ? `${shown.length} documents; the newest ${LISTED_DOCUMENTS} are listed, search to find the others.` : `${shown.length} document${shown.length === 1 ? '' : 's'}`;
  $('browse-count').replaceChildren(period ? `${count} published in ${period}. ` : `${count}.`, ...(period ? [el('button', { type: 'button', className: 'link', textContent: 'Show all documents', onclick: () => showDocumentList(docs) })] : []));
  $('doc-list').replaceChildren(
    ...byDate.slice(0, LISTED_DOCUMENTS).map((d) =>
      el('li', { className: 'doc' }, [
        el('time', { textContent: d.date ?? 'undated', ...(d.date ? { dateTime: d.date } : {}) }),
        ' ',
        viewLink(d.id, undefined, undefined, d.title),
        el('span', { className: 'meta', textContent: ` · ${[d.publisher, d.source].filter(Boolean).join(' · ')}` }),
      ]),
    ),
  );
  $('browse').hidden = false;
}

const DOCUMENTS = ['document', 'documents'];

/** The document list under its timeline: a bar shows only the documents of its period. */
async function browse(docs) {
  showDocumentList(docs);
  try {
    const timeline = await api('/api/timeline');
    const pick = (period) => {
      showDocumentList(docs, period);
      drawTimeline(timeline, DOCUMENTS, pick, { from: period, to: period });
    };
    drawTimeline(timeline, DOCUMENTS, pick);
  } catch (error) {
    $('status').textContent = `Could not draw the timeline: ${error.message}`;
  }
}

async function init() {
  const params = new URLSearchParams(location.search);
  let docs = [];
  try {
    docs = await api('/api/docs');
    for (const d of docs) $('doc').append(el('option', { value: d.id, textContent: d.date ? `${d.title} (${d.date})` : d.title }));
  } catch (error) {
    $('status').textContent = `Could not list documents: ${error.message}`;
  }
  for (const f of FIELDS) $(f).value = params.get(f) || '';
  $('search').addEventListener('submit', (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const f of FIELDS) if ($(f).value.trim()) next.set(f, $(f).value.trim());
    if (!next.get('q')) return;
    history.pushState(null, '', `/?${next}`);
    $('document').hidden = true;
    $('browse').hidden = true;
    search(next);
  });
  window.addEventListener('popstate', () => location.reload());
  // "/" goes to the search box from anywhere but a field being typed in; Escape in the box clears it.
  document.addEventListener('keydown', (event) => {
    const typing = event.target instanceof HTMLElement && event.target.closest('input, select, textarea, [contenteditable]');
    if (event.key === '/' && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      $('q').focus();
      $('q').select();
    }
  });
  $('q').addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      $('q').value = '';
    }
  });
  if (params.get('view')) showDocument(params.get('view'), params.get('start') === null ? undefined : Number(params.get('start')), Number(params.get('end')));
  else if (params.get('q')) search(currentSearch());
  else browse(docs);
}

init();
