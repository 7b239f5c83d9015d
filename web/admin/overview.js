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
 * Charts (issue 19 item 6) are Apache ECharts (vendor/echarts.js), one
 * meaning each: scans, risky scans, reward events (claims and
 * redemptions, both counts); points issued is a KPI. Dates on the axes
 * are ISO (MM-DD, HH:00; YYYY-MM-DD in the tooltips) in both languages.
 * KPI cards come in two rows of one meaning (activity, risk), each an
 * auto-fit grid, so neither leaves a card alone on a row at 1024 px.
 * Each card shows its change against the period of the same length just
 * before (the server's ?compare=previous, so the same zone rules): an
 * arrow and a signed percentage, green when it is good news for that
 * KPI (more scans; fewer counterfeits), red when bad, "–" when the
 * period before had none; the value before on the same line and the
 * period's dates in its title. The scans chart draws the period before
 * as a dashed line, bucket for bucket.
 *
 * It keeps the rules of app.js, whose helpers it uses through
 * window.sigilAdmin, and registers itself as the first page.
 */
'use strict';

(function () {

const A = window.sigilAdmin;
if (!A)
	return;
const { el, append, clear, t, api, fmt, loading, failure, table,
    rangeQuery } = A;
const route = () => A.route();

Object.assign(A.TEXT.zh, {
	unverified: '未验证',
	unverified_note: '未验证：没有防伪标签的 GS1 数字链接（只有商品码，无法核验）。',
	ov_points_issued: '发放积分', ov_redemptions: '兑换次数',
	ov_new_scanners: '新扫码设备', ov_activity: '扫码与领奖',
	ov_risk: '风险', ov_risk_over_time: '风险扫码趋势',
	ov_rewards_over_time: '领奖与兑换（次数）',
	ov_scans_over_time: '扫码趋势（次数）', ov_no_lib: '图表组件未加载。',
	ov_prev: '上期', ov_prev_period: '上期（{a} 至 {b}）：{n}',
	ov_prev_none: '上期为 0，无法计算变化', ov_prev_scans: '上期扫码',
});
Object.assign(A.TEXT.en, {
	unverified: 'Unverified',
	unverified_note: 'Unverified: GS1 Digital Links without the security tag (only the product code; nothing to check).',
	ov_points_issued: 'Points issued', ov_redemptions: 'Redemptions',
	ov_new_scanners: 'New scanning devices', ov_activity: 'Scans and rewards',
	ov_risk: 'Risk', ov_risk_over_time: 'Risky scans over time',
	ov_rewards_over_time: 'Claims and redemptions (count)',
	ov_scans_over_time: 'Scans over time (count)',
	ov_no_lib: 'The chart library is not loaded.',
	ov_prev: 'Previous', ov_prev_period: 'Previous period ({a} to {b}): {n}',
	ov_prev_none: 'Previous period 0: no change to show',
	ov_prev_scans: 'Scans, previous period',
});

const pad = (n) => String(n).padStart(2, '0');
/* ISO local dates and hours, the same in both languages. */
function isoDay(d) {
	return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}
function tick(iso, bucket) {
	const d = new Date(iso);
	/* By hour, midnight says the day instead. */
	return bucket === 'hour' && d.getHours() !== 0 ?
	    `${pad(d.getHours())}:00` :
	    `${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}
function full(iso, bucket) {
	const d = new Date(iso);
	return bucket === 'hour' ? `${isoDay(d)} ${pad(d.getHours())}:00` :
	    isoDay(d);
}

/*
 * The change of cur against prev: {text, dir} with text a signed
 * percentage (one decimal below 10 %, whole above) and dir up, down or
 * flat; null when prev is 0 (no percentage to give).
 */
function change(cur, prev) {
	if (!prev)
		return null;
	const pct = (cur - prev) / prev * 100;
	const abs = Math.abs(pct);
	const num = abs < 10 ? abs.toFixed(1).replace(/\.0$/, '') :
	    String(Math.round(abs));
	if (num === '0')
		return { text: '±0%', dir: 'flat' };
	return { text: (pct > 0 ? '+' : '−') + num + '%',
	    dir: pct > 0 ? 'up' : 'down' };
}

/* The previous period's bounds as the page shows them: local dates by
 * day (to is exclusive: its day before), local hours by hour. */
function periodText(p, bucket) {
	if (bucket === 'hour')
		return [full(p.from, 'hour'), full(p.to, 'hour')];
	return [isoDay(new Date(p.from)),
	    isoDay(new Date(new Date(p.to).getTime() - 3600000))];
}

const COLORS = ['#1f6feb', '#8250df', '#1a7f37', '#d4a72c', '#cf222e',
    '#0598bc'];

/*
 * One ECharts chart of rows[i][key] for each series {key, label, color};
 * opts.bars for bars. Tick labels 12 px, thinned by ECharts so they never
 * overlap; tooltips drawn by ECharts itself (richText), never HTML.
 */
function chart(rows, series, opts) {
	const box = el('div', { class: 'ov-chart', id: opts.id });
	if (!window.echarts) {
		box.appendChild(el('p', { class: 'empty' }, t('ov_no_lib')));
		return box;
	}
	const c = window.echarts.init(box, null, { renderer: 'svg' });
	c.setOption({
		animation: false,
		color: series.map((s) => s.color),
		grid: { left: 8, right: 16, top: 16, bottom: 40,
		    containLabel: true },
		legend: { bottom: 0, textStyle: { fontSize: 12 } },
		tooltip: { trigger: 'axis', renderMode: 'richText' },
		xAxis: { type: 'category', boundaryGap: !!opts.bars,
		    data: rows.map((r) => full(r.t, opts.bucket)),
		    axisLabel: { fontSize: 12, hideOverlap: true,
		    formatter: (v, i) => tick(rows[i] ? rows[i].t : v,
		    opts.bucket) } },
		yAxis: { type: 'value', minInterval: 1,
		    axisLabel: { fontSize: 12, formatter: (v) => fmt(v) } },
		series: series.map((s) => ({
			type: opts.bars ? 'bar' : 'line', name: s.label,
			data: s.rows ? rows.map((r, i) => s.rows[i] ?
			    s.rows[i][s.key] || 0 : null) :
			    rows.map((r) => r[s.key] || 0),
			showSymbol: rows.length <= 60, symbolSize: 5,
			barMaxWidth: 18,
			lineStyle: s.dashed ? { type: 'dashed', width: 1.5 } :
			    undefined,
		})),
	});
	A.chartFollow(box, c);
	return box;
}

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
		    api('GET', '/api/v1/stats/overview?compare=previous&' + q),
		    api('GET', '/api/v1/stats/products?limit=10&' + q),
		    api('GET', '/api/v1/stats/batches?limit=10&' + q)]);
		clear(body);
		const prev = ov.previous || null;
		/* The change against the period before: more is good for
		 * activity, bad for risk (more counterfeit is bad). */
		const delta = (key, bad) => {
			if (!prev)
				return null;
			const p = prev.totals[key] || 0;
			const ch = change(ov.totals[key] || 0, p);
			const [a, b] = periodText(prev, bucket);
			const title = t('ov_prev_period').replace('{a}', a)
			    .replace('{b}', b).replace('{n}', fmt(p));
			const mood = !ch || ch.dir === 'flat' ? 'flat' :
			    (ch.dir === 'up') !== !!bad ? 'good' : 'bad';
			return el('div', { class: 'delta ' + mood, id: 'kpi-' + key +
			    '-delta', title: ch ? title : title + ' · ' +
			    t('ov_prev_none') },
			    el('span', { class: 'chg' }, ch ? (ch.dir === 'up' ?
			    '▲ ' : ch.dir === 'down' ? '▼ ' : '') + ch.text : '–'),
			    el('span', { class: 'prev' }, `${t('ov_prev')} ${fmt(p)}`));
		};
		const kpi = (key, label, bad) => el('div', { class: 'kpi' +
		    (bad && ov.totals[key] > 0 ? ' bad' : ''), id: 'kpi-' + key },
		    el('div', { class: 'label' }, label),
		    el('div', { class: 'value' }, fmt(ov.totals[key])),
		    delta(key, bad));
		/* Two rows of one meaning each: activity, then risk. */
		body.appendChild(el('div', { class: 'kpis', id: 'kpis-activity',
		    'aria-label': t('ov_activity') },
		    kpi('scans', t('scans')), kpi('scanners', t('ov_new_scanners')),
		    kpi('first_scans', t('first_scans')), kpi('claims', t('claims')),
		    kpi('points', t('ov_points_issued')),
		    kpi('redemptions', t('ov_redemptions'))));
		body.appendChild(el('div', { class: 'kpis', id: 'kpis-risk',
		    'aria-label': t('ov_risk') },
		    kpi('suspicious', t('suspicious'), true),
		    kpi('counterfeit', t('counterfeit'), true),
		    kpi('unverified', t('unverified'), true),
		    kpi('diversion', t('diversion'), true)));
		if (ov.totals.unverified > 0)
			body.appendChild(el('p', { class: 'muted' },
			    t('unverified_note')));
		const card = (title, c) => el('div', { class: 'card' },
		    el('h2', {}, title), c);
		const series = ov.series || [];
		body.appendChild(card(t('ov_scans_over_time'), chart(series, [
		    { key: 'scans', label: t('scans'), color: COLORS[0] },
		    { key: 'first_scans', label: t('first_scans'), color: COLORS[2] },
		    { key: 'scanners', label: t('ov_new_scanners'), color: COLORS[1] },
		    ].concat(prev && prev.series ? [{ key: 'scans', rows:
		    prev.series, dashed: true, label: t('ov_prev_scans'),
		    color: '#8c95a6' }] : []), { bucket, id: 'chart-scans' })));
		body.appendChild(el('div', { class: 'grid two' },
		    card(t('ov_risk_over_time'), chart(series, [
		    { key: 'suspicious', label: t('suspicious'), color: COLORS[3] },
		    { key: 'counterfeit', label: t('counterfeit'), color: COLORS[4] },
		    { key: 'diversion', label: t('diversion'), color: '#8250df' },
		    { key: 'unverified', label: t('unverified'), color: '#6b7385' },
		    ], { bucket, bars: true, id: 'chart-risk' })),
		    card(t('ov_rewards_over_time'), chart(series, [
		    { key: 'claims', label: t('claims'), color: COLORS[0] },
		    { key: 'redemptions', label: t('ov_redemptions'),
		      color: COLORS[5] },
		    ], { bucket, bars: true, id: 'chart-rewards' }))));
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
