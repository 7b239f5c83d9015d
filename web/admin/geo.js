/*
 * geo.js - the dashboard's geography page (issue 19 item 6): where the
 * brand's codes are scanned, on the map of China with its provinces (and
 * a world view, map.js): provinces shaded by scans with a legend, the
 * scan points (genuine, suspicious, diversion, counterfeit: counterfeit
 * scans are located when the consumer shares the place from the
 * counterfeit page), the distributors' territories; below it the
 * provinces as a table and the newest diversion alerts.
 *
 * Data: GET /api/v1/stats/regions (1-degree cells, up to 5,000) over the
 * chosen range, GET /api/v1/stats/provinces (the scans without a shared
 * place, by the province of their address: low-confidence), GET /api/v1/distributors (the first 50) and each one's
 * territory, GET
 * /api/v1/alerts?type=diversion (the newest page).
 */
'use strict';

(function () {

const A = window.sigilAdmin;
if (!A)
	return;
const { el, append, clear, t, api, fmt, loading, failure, table,
    rangeQuery } = A;

Object.assign(A.TEXT.zh, {
	ge_regions: '扫码地域分布', ge_by_area: '各省扫码',
	ge_area: '省份 / 地区', ge_other: '中国境外或未能归入省份',
	ge_diversion_alerts: '最新窜货告警',
	ge_truncated: '仅显示扫码最多的 {n} 个网格（共 {m} 个）。',
	ge_all_alerts: '全部告警',
	ge_territories_max: '只绘出前 {n} 个经销商的区域。',
	ge_by_ip: '其中据 IP 推断',
});
Object.assign(A.TEXT.en, {
	ge_regions: 'Scans by region', ge_by_area: 'Scans by province',
	ge_area: 'Province / region', ge_other: 'Outside China or not in a province',
	ge_diversion_alerts: 'Newest diversion alerts',
	ge_truncated: 'Only the {n} cells with the most scans are shown ' +
	    '(of {m}).',
	ge_all_alerts: 'All alerts',
	ge_territories_max: 'Only the territories of the first {n} ' +
	    'distributors are drawn.',
	ge_by_ip: 'Of which placed by IP',
});

const RANGES = [['last_30d', 30], ['last_90d', 90], ['last_365d', 365]];
const TERRITORIES_MAX = 50;

/* Each distributor's territory (at most TERRITORIES_MAX of them). */
async function territories() {
	const list = await api('GET', '/api/v1/distributors?limit=' +
	    TERRITORIES_MAX);
	const ds = (list.distributors || []).slice(0, TERRITORIES_MAX);
	const full = await Promise.all(ds.map((d) =>
	    api('GET', '/api/v1/distributors/' + d.id).catch(() => null)));
	const out = full.filter((d) => d && d.territory)
	    .map((d) => ({ name: d.name, territory: d.territory }));
	out.more = list.next !== null && list.next !== undefined;
	return out;
}

/*
 * The cells summed per province (the one covering most of the cell),
 * plus the scans without a shared place by their address's province
 * (areas: GET /api/v1/stats/provinces; "ip" counts how many of a row's
 * came that way). A consented place wins: the server counts a located
 * scan by its cell only.
 */
function byArea(regions, areas) {
	const rows = new Map();
	const row = (name) => rows.get(name) || { name, scans: 0,
	    suspicious: 0, counterfeit: 0, diversion: 0, ip: 0 };
	for (const r of regions) {
		const name = window.sigilMap.areaOfCell(r.lat, r.lng) || '';
		const x = row(name);
		for (const k of ['scans', 'suspicious', 'counterfeit', 'diversion'])
			x[k] += r[k] || 0;
		rows.set(name, x);
	}
	for (const r of areas) {
		const name = window.sigilMap.areaOfRegion(r.region) || '';
		const x = row(name);
		x.scans += r.scans || 0;
		x.suspicious += r.suspicious || 0;
		x.counterfeit += (r.counterfeit || 0) + (r.unverified || 0);
		x.ip += (r.scans || 0) + (r.counterfeit || 0) + (r.unverified || 0);
		rows.set(name, x);
	}
	return [...rows.values()].sort((a, b) => b.scans - a.scans);
}

async function geo(box, params) {
	const days = Number(params.get('days')) || 90;
	const rangeSel = el('select', { id: 'geo-range', on: { change: () => {
		location.hash = '#/geo?days=' + rangeSel.value;
	} } }, RANGES.map(([k, d]) => el('option', { value: d,
	    selected: d === days }, t(k))));
	append(box, [el('div', { class: 'toolbar' }, el('h1', {}, t('geo')),
	    el('span', { class: 'spacer' }), rangeSel)]);
	const mapCard = el('div', { class: 'card', id: 'region-map-card' });
	const areaCard = el('div', { class: 'card', id: 'geo-areas' });
	const alertCard = el('div', { class: 'card', id: 'geo-alerts' });
	append(box, [mapCard, el('div', { class: 'grid two' }, areaCard,
	    alertCard)]);
	loading(mapCard);
	loading(areaCard);
	loading(alertCard);
	let reg, prov, terr, al;
	try {
		[reg, prov, terr, al] = await Promise.all([
		    api('GET', '/api/v1/stats/regions?limit=5000&' +
			rangeQuery('day', days)),
		    api('GET', '/api/v1/stats/provinces?limit=5000&' +
			rangeQuery('day', days)),
		    territories(),
		    api('GET', '/api/v1/alerts?type=diversion&limit=20')]);
	} catch (e) {
		failure(mapCard, e, () => A.route());
		clear(areaCard);
		clear(alertCard);
		return;
	}
	const regions = reg.regions || [];
	const areas = prov.provinces || [];
	clear(mapCard).appendChild(el('h2', {}, t('ge_regions')));
	const mapBox = el('div', { id: 'region-map' });
	mapCard.appendChild(mapBox);
	try {
		await window.sigilMap.china(mapBox, { regions, areas,
		    geoip: prov.geoip, territories: terr });
	} catch (e) {
		clear(areaCard);
		clear(alertCard);
		return;
	}
	if (terr.more)
		mapCard.appendChild(el('p', { class: 'muted' },
		    t('ge_territories_max').replace('{n}', TERRITORIES_MAX)));
	if (reg.total_rows > regions.length)
		mapCard.appendChild(el('p', { class: 'muted' }, t('ge_truncated')
		    .replace('{n}', fmt(regions.length))
		    .replace('{m}', fmt(reg.total_rows))));
	append(clear(areaCard), [el('h2', {}, t('ge_by_area')), table([
	    { label: t('ge_area'), render: (r) => r.name ?
	      window.sigilMap.labelOf(r.name) : t('ge_other') },
	    { label: t('scans'), key: 'scans', num: true },
	    { label: t('suspicious'), key: 'suspicious', num: true },
	    { label: t('counterfeit'), key: 'counterfeit', num: true },
	    { label: t('diversion'), key: 'diversion', num: true },
	    { label: t('ge_by_ip'), key: 'ip', num: true },
	], byArea(regions, areas))]);
	append(clear(alertCard), [el('h2', {}, t('ge_diversion_alerts')),
	    window.sigilAlerts ? window.sigilAlerts.table(al.alerts || []) : '',
	    el('p', {}, el('a', { href: '#/alerts' }, t('ge_all_alerts')))]);
}

A.registerPage('geo', 'campaigns', geo, { group: 'trace' });

})();
