/*
 * overview.js - the dashboard's overview (issue 19 item 1): the brand's
 * KPIs, scans and claims over time, top products and batches, by day or
 * by hour.
 *
 * Times: by hour it asks for explicit UTC instants (they carry their
 * zone, and the server never moves them); by day, for the browser's local
 * dates with tz (its offset in hours), which the server cuts into local
 * days. So a browser in UTC+8 sees the last hour's scans in the last
 * hour's bar. Counterfeit and unverified scans are those of codes that
 * name this brand (a forged tag's key id, a Digital Link's GTIN).
 *
 * It keeps the rules of app.js, whose helpers it uses through
 * window.sigilAdmin, and registers itself as the first page.
 */
'use strict';

(function () {

const A = window.sigilAdmin;
if (!A)
	return;
const { el, append, clear, t, api, fmt, loading, failure, table, chart,
    rangeQuery } = A;
const route = () => A.route();

Object.assign(A.TEXT.zh, {
	unverified: '未验证',
	unverified_note: '未验证：没有防伪标签的 GS1 数字链接（只有商品码，无法核验）。',
});
Object.assign(A.TEXT.en, {
	unverified: 'Unverified',
	unverified_note: 'Unverified: GS1 Digital Links without the security tag (only the product code; nothing to check).',
});

const RANGES = {
	hour: [['last_24h', 1], ['last_48h', 2], ['last_7d', 7]],
	day: [['last_7d', 7], ['last_30d', 30], ['last_90d', 90], ['last_365d', 365]],
};


async function overview(box, params) {
	const bucket = params.get('bucket') === 'hour' ? 'hour' : 'day';
	const days = Number(params.get('days')) ||
	    (bucket === 'hour' ? 2 : 30);
	const setParams = (b, d) => {
		location.hash = `#/overview?bucket=${b}&days=${d}`;
	};
	const bucketSel = el('select', { id: 'bucket', on: { change: () =>
	    setParams(bucketSel.value, bucketSel.value === 'hour' ? 2 : 30) } },
	    ['day', 'hour'].map((b) => el('option', { value: b,
	    selected: b === bucket }, t(b))));
	const rangeSel = el('select', { id: 'range', on: { change: () =>
	    setParams(bucket, rangeSel.value) } },
	    RANGES[bucket].map(([k, d]) => el('option', { value: d,
	    selected: d === days }, t(k))));
	append(box, [el('div', { class: 'toolbar' }, el('h1', {}, t('overview')),
	    el('span', { class: 'spacer' }), bucketSel, rangeSel)]);
	const body = el('div', {});
	box.appendChild(body);
	loading(body);
	const q = rangeQuery(bucket, days);
	try {
		const [ov, prods, bats] = await Promise.all([
		    api('GET', '/api/v1/stats/overview?' + q),
		    api('GET', '/api/v1/stats/products?limit=10&' + q),
		    api('GET', '/api/v1/stats/batches?limit=10&' + q)]);
		clear(body);
		const kpi = (key, bad) => el('div', { class: 'kpi' +
		    (bad && ov.totals[key] > 0 ? ' bad' : ''), id: 'kpi-' + key },
		    el('div', { class: 'label' }, t(key)),
		    el('div', { class: 'value' }, fmt(ov.totals[key])));
		body.appendChild(el('div', { class: 'kpis' },
		    kpi('scans'), kpi('scanners'), kpi('first_scans'),
		    kpi('claims'), kpi('points'), kpi('suspicious', true),
		    kpi('counterfeit', true), kpi('unverified', true),
		    kpi('diversion', true)));
		if (ov.totals.unverified > 0)
			body.appendChild(el('p', { class: 'muted' },
			    t('unverified_note')));
		body.appendChild(el('div', { class: 'grid two' },
		    el('div', { class: 'card' }, el('h2', {}, t('scans_over_time')),
		    chart(ov.series, [{ key: 'scans', label: t('scans') },
		    { key: 'scanners', label: t('scanners') },
		    { key: 'first_scans', label: t('first_scans') }], { bucket })),
		    el('div', { class: 'card' }, el('h2', {}, t('claims_over_time')),
		    chart(ov.series, [{ key: 'claims', label: t('claims') },
		    { key: 'suspicious', label: t('suspicious') }],
		    { bucket, bars: true }))));
		body.appendChild(el('div', { class: 'grid two' },
		    el('div', { class: 'card', id: 'top-products' },
		    el('h2', {}, t('top_products')), table([
		    { label: t('product'), render: (r) => [r.name || '–',
		      el('span', { class: 'sub' }, r.sku || '')] },
		    { label: t('scans'), key: 'scans', num: true },
		    { label: t('first_scans'), key: 'first_scans', num: true },
		    { label: t('suspicious'), key: 'suspicious', num: true },
		    ], prods.products)),
		    el('div', { class: 'card' }, el('h2', {}, t('top_batches')),
		    table([
		    { label: t('batch'), render: (r) => ['#' + r.batch,
		      el('span', { class: 'sub' }, [r.sku, r.lot].filter(Boolean).join(' · '))] },
		    { label: t('scans'), key: 'scans', num: true },
		    { label: t('first_scans'), key: 'first_scans', num: true },
		    { label: t('suspicious'), key: 'suspicious', num: true },
		    ], bats.batches))));
	} catch (e) {
		failure(body, e, () => route());
	}
}

A.registerPage('overview', null, overview, { ownNote: true,
    group: 'overview' });

})();
