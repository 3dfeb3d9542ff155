// The registry at a glance: a client of the public GraphQL API and the
// downloads, as any portal would be. Every query is a GET with fixed text, so
// the service's response cache, ETags and the browser's HTTP cache all apply.
'use strict';

const OVERVIEW = `query Overzicht($asOf: Date) {
  coverage { from today }
  regions(asOf: $asOf, first: 100) {
    nodes { code name municipalities { code name validTo } }
  }
}`;

const REGION = `query Regio($code: String!, $asOf: Date) {
  region(code: $code, asOf: $asOf) {
    code name validFrom validFromIsLowerBound validTo source
    municipalities { code name validTo }
    cooperations { code name scale validFrom validFromIsLowerBound validTo source }
    roles {
      code kind note validFrom validFromIsLowerBound validTo source
      holder { __typename ... on Municipality { code name } ... on Region { code name } ... on Cooperation { code name } }
      careForm { name }
      provider { name }
    }
    frameworkContracts { code title scale validFrom validFromIsLowerBound validTo source }
  }
}`;

const RECORD = `query Gemeentegeschiedenis($code: String!) {
  municipalityRecord(code: $code) { code name validFrom validTo successors { municipality { code name } } }
}`;

const ROLE_KINDS = {
  ACCOUNT_HOLDER: 'accounthouder',
  LEAD_MUNICIPALITY: 'penvoerder',
  PURCHASING_ORGANISATION: 'inkooporganisatie',
  CONTRACT_MANAGER: 'contractmanagement',
  COORDINATING_MUNICIPALITY: 'coördinerende gemeente',
};
const SCALES = {
  SUBREGIONAL: 'subregionaal',
  REGIONAL: 'regionaal',
  BIREGIONAL: 'bi-regionaal',
  SUPRAREGIONAL: 'bovenregionaal',
  NATIONAL: 'landelijk',
};
// Longitude is scaled by the cosine of the Netherlands' middle latitude, so the map is not stretched.
const LONGITUDE_SCALE = Math.cos((52.2 * Math.PI) / 180);
const SVG = 'http://www.w3.org/2000/svg';

const state = { asOf: null, today: null, from: '2015-01-01', regions: [], municipalities: [], selected: null, load: 0 };
const $ = (selector) => document.querySelector(selector);

class ApiError extends Error {}

async function graphql(query, variables) {
  const parameters = new URLSearchParams({ query, variables: JSON.stringify(variables) });
  const response = await fetch(`/graphql?${parameters}`, {
    headers: { accept: 'application/graphql-response+json, application/json' },
  });
  const body = await response.json().catch(() => null);
  if (!body) throw new ApiError(`De API antwoordde met HTTP ${response.status}.`);
  if (body.errors?.length) throw new ApiError(body.errors.map((e) => e.message).join(' '));
  return body;
}

async function download(file) {
  const response = await fetch(exportUrl(file));
  if (!response.ok) throw new ApiError(`${file}: HTTP ${response.status}`);
  return response.json();
}

const exportUrl = (file) => `/export/${file}?asOf=${state.asOf}`;

function element(name, attributes = {}, ...children) {
  const node = document.createElement(name);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

const dutchDate = (iso) =>
  new Date(`${iso}T00:00:00Z`).toLocaleDateString('nl-NL', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });

function validity(fact) {
  const parts = [];
  if (fact.validFrom) parts.push(`${fact.validFromIsLowerBound ? 'minstens sinds' : 'sinds'} ${dutchDate(fact.validFrom)}`);
  else parts.push('begin onbekend');
  if (fact.validTo) parts.push(`tot ${dutchDate(fact.validTo)}`);
  return parts.join(', ');
}

function notice(text) {
  const box = $('#melding');
  box.textContent = text ?? '';
  box.hidden = !text;
}

// ---------------------------------------------------------------- loading

async function load() {
  const load = ++state.load;
  document.body.setAttribute('aria-busy', 'true');
  for (const span of document.querySelectorAll('.datum')) span.textContent = dutchDate(state.asOf);
  for (const link of document.querySelectorAll('a[data-export]')) link.href = exportUrl(link.dataset.export);
  try {
    const [overview, regionShapes, municipalityShapes] = await Promise.all([
      graphql(OVERVIEW, { asOf: state.asOf }),
      download('regions.geojson'),
      download('municipalities.geojson'),
    ]);
    if (load !== state.load) return; // a later date was chosen meanwhile
    state.today = overview.data.coverage.today;
    state.from = overview.data.coverage.from;
    state.regions = overview.data.regions.nodes;
    state.municipalities = state.regions
      .flatMap((region) => region.municipalities.map((m) => ({ ...m, region })))
      .sort((a, b) => a.code.localeCompare(b.code));
    notice(
      overview.extensions?.provisional
        ? `${dutchDate(state.asOf)} ligt na vandaag: dit is het register van vandaag met de wijzigingen die al zijn besloten.`
        : null,
    );
    drawMap(regionShapes, municipalityShapes);
    fillTables();
    search();
    if (state.selected) await openRegion(state.selected, { focus: false });
  } catch (error) {
    notice(`Het register kon niet worden geladen: ${error.message}`);
  } finally {
    if (load === state.load) document.body.setAttribute('aria-busy', 'false');
  }
}

// ---------------------------------------------------------------- map

function pathData(geometry) {
  const polygons = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates;
  let d = '';
  for (const polygon of polygons) {
    for (const ring of polygon) {
      d += ring.map(([lon, lat], i) => `${i ? 'L' : 'M'}${(lon * LONGITUDE_SCALE).toFixed(4)} ${(-lat).toFixed(4)}`).join('');
      d += 'Z';
    }
  }
  return d;
}

function bounds(features) {
  let [minX, minY, maxX, maxY] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const feature of features) {
    const polygons = feature.geometry.type === 'Polygon' ? [feature.geometry.coordinates] : feature.geometry.coordinates;
    for (const [lon, lat] of polygons.flat(2)) {
      const [x, y] = [lon * LONGITUDE_SCALE, -lat];
      [minX, minY, maxX, maxY] = [Math.min(minX, x), Math.min(minY, y), Math.max(maxX, x), Math.max(maxY, y)];
    }
  }
  return { minX, minY, width: maxX - minX, height: maxY - minY };
}

const svgElement = (name, attributes = {}) => {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  return node;
};

function colour(index) {
  // The golden angle spreads neighbouring codes over the colour wheel.
  return `hsl(${Math.round((index * 137.508) % 360)} 45% 72%)`;
}

function drawMap(regionShapes, municipalityShapes) {
  const canvas = $('#kaart');
  const shaped = regionShapes.features.filter((f) => f.geometry);
  const box = bounds(shaped);
  const margin = 0.02;
  const svg = svgElement('svg', {
    viewBox: `${box.minX - margin} ${box.minY - margin} ${box.width + 2 * margin} ${box.height + 2 * margin}`,
    role: 'group',
    'aria-label': `Kaart van de ${shaped.length} jeugdzorgregio's op ${dutchDate(state.asOf)}`,
  });
  const regionLayer = svgElement('g', { class: 'regions' });
  const names = new Map(state.regions.map((r) => [r.code, r.name]));
  regionShapes.features.forEach((feature, index) => {
    if (!feature.geometry) return;
    const code = feature.properties.code;
    const label = `${code} ${names.get(code) ?? feature.properties.name}`;
    const path = svgElement('path', {
      d: pathData(feature.geometry),
      id: `vorm-${code}`,
      class: 'region',
      fill: colour(index),
      tabindex: '0',
      role: 'button',
      'aria-label': label,
      'data-region': code,
    });
    path.append(Object.assign(svgElement('title'), { textContent: label }));
    const name = () => showName(label, code);
    path.addEventListener('mouseenter', name);
    path.addEventListener('focus', name);
    path.addEventListener('mouseleave', () => showName(null));
    path.addEventListener('blur', () => showName(null));
    path.addEventListener('click', () => openRegion(code, { focus: true }));
    path.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' || event.key === ' ') {
        event.preventDefault();
        openRegion(code, { focus: true });
      }
    });
    regionLayer.append(path);
  });
  const municipalityLayer = svgElement('g', { class: 'municipalities', 'aria-hidden': 'true' });
  for (const feature of municipalityShapes.features) {
    if (feature.geometry) municipalityLayer.append(svgElement('path', { d: pathData(feature.geometry) }));
  }
  const highlight = svgElement('g', { class: 'highlight', 'aria-hidden': 'true' });
  svg.append(regionLayer, municipalityLayer, highlight);
  canvas.replaceChildren(svg);

  const regionYear = regionShapes.features.find((f) => f.properties.geometryYear)?.properties.geometryYear;
  $('#kaart-bron').textContent = regionYear ? `Bron: CBS, regiogrenzen van de indeling ${regionYear}` : 'Bron: CBS';
  const withBoundaries = municipalityLayer.childElementCount;
  $('#kaart-gemeentegrenzen').textContent = withBoundaries
    ? 'De dunne lijnen zijn de gemeentegrenzen.'
    : `Gemeentegrenzen van ${state.asOf.slice(0, 4)} zitten niet in de bronnen van dit register (wel die van 2015 en ` +
      'vanaf 2025); de gemeenten van deze datum staan in de tabellen.';
  markSelected();
}

function showName(label, code) {
  $('#kaart-naam').textContent = label ?? '\u00a0';
  const highlight = $('#kaart .highlight');
  if (!highlight) return;
  highlight.replaceChildren();
  // A copy of the outline only: a <use> would also copy the region's fill over the municipal boundaries.
  const shape = code && document.getElementById(`vorm-${code}`);
  if (shape) highlight.append(svgElement('path', { d: shape.getAttribute('d') }));
}

function markSelected() {
  for (const path of document.querySelectorAll('#kaart .region')) {
    path.classList.toggle('selected', path.dataset.region === state.selected);
  }
}

// ---------------------------------------------------------------- tables

function regionButton(region, text = `${region.code} ${region.name}`) {
  return element('button', { type: 'button', class: 'link', onclick: () => openRegion(region.code, { focus: true }) }, text);
}

function ended(municipality) {
  return municipality.validTo ? ` (opgeheven per ${dutchDate(municipality.validTo)})` : '';
}

function fillTables() {
  $('#regiotabel tbody').replaceChildren(
    ...state.regions.map((region) =>
      element(
        'tr',
        {},
        element('td', {}, region.code),
        element('th', { scope: 'row' }, regionButton(region, region.name)),
        element('td', {}, region.municipalities.map((m) => m.name).join(', ')),
        element('td', { class: 'number' }, String(region.municipalities.length)),
      ),
    ),
  );
  $('#gemeentetabel tbody').replaceChildren(
    ...state.municipalities.map((m) =>
      element(
        'tr',
        { dataset: { code: m.code } },
        element('td', {}, m.code),
        element('th', { scope: 'row' }, m.name + ended(m)),
        element('td', {}, regionButton(m.region)),
      ),
    ),
  );
  $('#gemeente-aantal').textContent = String(state.municipalities.length);
  $('#telling').textContent = `${state.regions.length} regio's, ${state.municipalities.length} gemeenten.`;
}

// ---------------------------------------------------------------- region

function section(title, items, render) {
  if (!items.length) return element('section', {}, element('h3', {}, title), element('p', { class: 'empty' }, 'Geen op deze datum.'));
  return element('section', {}, element('h3', {}, `${title} (${items.length})`), element('ul', {}, ...items.map((item) => element('li', {}, ...render(item)))));
}

const source = (fact) => element('span', { class: 'source' }, `${validity(fact)}. Bron: ${fact.source}`);

function holderName(holder) {
  if (!holder) return 'houder onbekend';
  return `${holder.name} (${holder.code})`;
}

function renderRegion(region) {
  const detail = $('#regio');
  detail.replaceChildren(
    element('h2', { id: 'regio-titel' }, `${region.code} ${region.name}`),
    element('p', { class: 'source' }, `Jeugdzorgregio, ${validity(region)}. Bron: ${region.source}`),
    section('Gemeenten', region.municipalities, (m) => [`${m.name} `, element('span', { class: 'code' }, m.code), ended(m)]),
    section('Samenwerkingsverbanden', region.cooperations, (c) => [
      element('strong', {}, c.name),
      ` — ${SCALES[c.scale] ?? c.scale}. `,
      source(c),
    ]),
    section('Rollen', region.roles, (r) => [
      element('strong', {}, ROLE_KINDS[r.kind] ?? r.kind),
      ': ',
      holderName(r.holder),
      r.careForm ? ` voor ${r.careForm.name}` : '',
      r.provider ? ` bij ${r.provider.name}` : '',
      r.note ? ` (${r.note})` : '',
      '. ',
      source(r),
    ]),
    section('Raamovereenkomsten', region.frameworkContracts, (c) => [
      element('strong', {}, c.title),
      ` — ${SCALES[c.scale] ?? c.scale}. `,
      source(c),
    ]),
  );
}

async function openRegion(code, { focus }) {
  state.selected = code;
  markSelected();
  try {
    const { data } = await graphql(REGION, { code, asOf: state.asOf });
    if (state.selected !== code) return;
    if (!data.region) {
      $('#regio').replaceChildren(element('h2', {}, code), element('p', {}, `Deze regio bestond niet op ${dutchDate(state.asOf)}.`));
    } else {
      renderRegion(data.region);
    }
    if (focus) $('#regio').focus();
  } catch (error) {
    notice(`De regio kon niet worden geladen: ${error.message}`);
  }
}

// ---------------------------------------------------------------- search

// Accents, quotes, commas and hyphens do not matter: "s gravenhage" finds 's-Gravenhage.
const searchKey = (text) =>
  text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();

function matches(query) {
  const key = searchKey(query);
  if (!key) return [];
  const code = key.replace(/ /g, '');
  const scored = [];
  for (const m of state.municipalities) {
    const name = searchKey(m.name);
    let score;
    if (m.code.toLowerCase() === code || name === key) score = 0;
    else if (name.startsWith(key) || m.code.toLowerCase().startsWith(code)) score = 1;
    else if (` ${name}`.includes(` ${key}`)) score = 2;
    else if (name.includes(key)) score = 3;
    else continue;
    scored.push([score, m]);
  }
  return scored.sort((a, b) => a[0] - b[0] || a[1].name.localeCompare(b[1].name, 'nl')).map(([, m]) => m);
}

function search() {
  const query = $('#zoek').value;
  const list = $('#zoekresultaten');
  const found = matches(query);
  if (!query.trim()) {
    list.replaceChildren();
    return found;
  }
  if (!found.length) {
    list.replaceChildren(element('li', { class: 'empty' }, `Geen gemeente "${query}" op ${dutchDate(state.asOf)}.`));
    explainUnknownCode(query);
    return found;
  }
  list.replaceChildren(
    ...found.slice(0, 10).map((m) =>
      element(
        'li',
        {},
        element(
          'button',
          { type: 'button', class: 'link', dataset: { code: m.code }, onclick: () => openRegion(m.region.code, { focus: true }) },
          `${m.name} (${m.code})${ended(m)}: ${m.region.code} ${m.region.name}`,
        ),
      ),
    ),
  );
  const exact = found.filter((m) => searchKey(m.name) === searchKey(query) || m.code.toLowerCase() === searchKey(query).replace(/ /g, ''));
  if (exact.length === 1 && state.selected !== exact[0].region.code) openRegion(exact[0].region.code, { focus: false });
  return found;
}

// A code that is not there on this date may have existed on another: say when and where it went.
async function explainUnknownCode(query) {
  const code = query.trim().toUpperCase();
  if (!/^GM\d{4}$/.test(code)) return;
  try {
    const { data } = await graphql(RECORD, { code });
    const record = data.municipalityRecord;
    if (!record || $('#zoek').value.trim().toUpperCase() !== code) return;
    const until = record.validTo ? `tot ${dutchDate(record.validTo)}` : 'nog steeds';
    const next = record.successors.map((s) => `${s.municipality.name} (${s.municipality.code})`).join(', ');
    $('#zoekresultaten').replaceChildren(
      element('li', { class: 'empty' }, `${record.name} (${record.code}) bestond ${dutchDate(record.validFrom)} ${until}${next ? `; opgegaan in ${next}` : ''}. Kies een datum in die periode.`),
    );
  } catch {
    // The message already shown stands.
  }
}

// ---------------------------------------------------------------- start

function chooseDate(value) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || value < state.from) {
    notice(`Kies een datum vanaf ${dutchDate(state.from)}: toen begonnen de jeugdzorgregio's.`);
    return;
  }
  state.asOf = value;
  const url = new URL(window.location.href);
  url.searchParams.set('asOf', value);
  window.history.replaceState(null, '', url);
  load();
}

async function start() {
  const dateInput = $('#peildatum');
  const asked = new URL(window.location.href).searchParams.get('asOf');
  if (asked) {
    state.asOf = asked;
  } else {
    const { data } = await graphql('{ coverage { from today } }', {});
    state.asOf = data.coverage.today;
  }
  dateInput.value = state.asOf;
  dateInput.addEventListener('change', () => chooseDate(dateInput.value));
  $('#controls').addEventListener('submit', (event) => {
    event.preventDefault();
    const [first] = search();
    if (first) openRegion(first.region.code, { focus: true });
  });
  $('#zoek').addEventListener('input', search);
  await load();
}

start().catch((error) => notice(`De pagina kon niet starten: ${error.message}`));
