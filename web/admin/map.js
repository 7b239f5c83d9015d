/*
 * map.js - window.sigilMap: the dashboard's maps (issue 19 item 6),
 * drawn with Apache ECharts (vendor/echarts.js, fetched by the build)
 * over the China map with its province outlines (vendor/china.json:
 * Taiwan, Hong Kong and Macao as provinces; ECharts adds the South China
 * Sea islands inset to a map registered as "china") and a world view
 * (vendor/world.json). See docs/dashboard.md for why these files.
 *
 *   const m = await sigilMap.china(box, { regions, points, territories,
 *       view: 'china'|'world', pick: { onChange } });
 *
 *   regions: the rows of GET /api/v1/stats/regions (1-degree cells):
 *     provinces (or countries, in the world view) are shaded by the scans
 *     of the cells they cover most of, with a legend (visualMap); the
 *     cells are also drawn as points: genuine, suspicious, counterfeit
 *     and diversion scans, each its own series in the legend;
 *   areas: the rows of GET /api/v1/stats/provinces (the scans without a
 *     shared place, by the province of their address): added to the
 *     shading of the province (or country) they name; geoip: that
 *     answer's "geoip" ("off": the note says the feature is off);
 *   points: more points [{lng, lat, kind, n, label}] (kind as above);
 *   territories: [{name, territory (GeoJSON Polygon/MultiPolygon)}], drawn
 *     as outlined areas; focus: a geometry the China view starts around;
 *   pick: the map becomes an editor: clicking a province selects it (or
 *     not), or, in corner mode, each click adds a corner of a polygon;
 *     m.territory() is the MultiPolygon of both, simplified; pick.start
 *     (a Polygon/MultiPolygon) starts it from a territory, drawn.
 *
 * Rules: no eval (the map data is given to ECharts as objects, never as
 * text); tooltips are drawn by ECharts in the canvas/SVG (renderMode
 * richText), never as HTML, so no server text ever reaches innerHTML.
 */
'use strict';

(function () {

const A = window.sigilAdmin;
if (!A)
	return;
const { el, t, fmt } = A;

Object.assign(A.TEXT.zh, {
	mp_china: '中国', mp_world: '世界', mp_scans: '扫码次数',
	mp_genuine: '正品扫码', mp_suspicious: '可疑扫码',
	mp_counterfeit: '假冒扫码', mp_diversion: '窜货扫码',
	mp_territory: '经销区域', mp_draft: '正在绘制',
	mp_no_lib: '地图组件未加载（vendor/echarts.js 缺失：请运行 make 获取）。',
	mp_note: '省份（世界视图为国家）按 1°×1° 网格的扫码次数着色（网格计入覆盖其大部分的省份）；圆点为各网格的扫码位置（消费者同意分享位置时）。滚轮缩放、拖动平移。',
	mp_south_sea: '南海诸岛', mp_roam: '滚轮缩放、拖动平移。',
	mp_ip_note: '未分享位置的扫码按其网络地址所属省份计入（据 IP 推断，可信度低，仅供参考，不作为窜货或仿冒依据）。',
	mp_ip_off: '未配置 IP 地域库（sigild 未使用 --geoip 启动）：未分享位置的扫码不计入省份。',
});
Object.assign(A.TEXT.en, {
	mp_china: 'China', mp_world: 'World', mp_scans: 'Scans',
	mp_genuine: 'Genuine scans', mp_suspicious: 'Suspicious scans',
	mp_counterfeit: 'Counterfeit scans', mp_diversion: 'Diversion scans',
	mp_territory: 'Territory', mp_draft: 'Being drawn',
	mp_no_lib: 'The map library is not loaded (vendor/echarts.js is ' +
	    'missing: run make to fetch it).',
	mp_note: 'Provinces (countries in the world view) are shaded by the ' +
	    'scans of 1°×1° cells (a cell counts for the province covering ' +
	    'most of it); dots are where ' +
	    'the scans of each cell were made (when the consumer shared the ' +
	    'place). Scroll to zoom, drag to pan.',
	mp_south_sea: 'South China Sea Islands',
	mp_roam: 'Scroll to zoom, drag to pan.',
	mp_ip_note: 'Scans without a shared place count for the province of ' +
	    'their network address (a low-confidence guess from the IP, ' +
	    'never a diversion or clone signal).',
	mp_ip_off: 'No IP region database (sigild runs without --geoip): ' +
	    'scans without a shared place count for no province.',
});

/* Province names in English, by administrative code. */
const PROVINCE_EN = {
	110000: 'Beijing', 120000: 'Tianjin', 130000: 'Hebei', 140000: 'Shanxi',
	150000: 'Inner Mongolia', 210000: 'Liaoning', 220000: 'Jilin',
	230000: 'Heilongjiang', 310000: 'Shanghai', 320000: 'Jiangsu',
	330000: 'Zhejiang', 340000: 'Anhui', 350000: 'Fujian',
	360000: 'Jiangxi', 370000: 'Shandong', 410000: 'Henan',
	420000: 'Hubei', 430000: 'Hunan', 440000: 'Guangdong',
	450000: 'Guangxi', 460000: 'Hainan', 500000: 'Chongqing',
	510000: 'Sichuan', 520000: 'Guizhou', 530000: 'Yunnan',
	540000: 'Xizang (Tibet)', 610000: 'Shaanxi', 620000: 'Gansu',
	630000: 'Qinghai', 640000: 'Ningxia', 650000: 'Xinjiang',
	710000: 'Taiwan', 810000: 'Hong Kong', 820000: 'Macao',
};

const COLOR = { genuine: '#1a7f37', suspicious: '#d4a72c',
    counterfeit: '#cf222e', diversion: '#8250df', territory: '#0598bc',
    draft: '#1f6feb' };
const KINDS = ['genuine', 'suspicious', 'diversion', 'counterfeit'];

/* ---- the map data: fetched once, decoded, registered with ECharts ---- */

/*
 * ECharts 4's map files are compressed ("UTF8Encoding": zig-zag deltas
 * as characters, scaled by 1024); decoded here once so that the same
 * coordinates serve drawing, point-in-province and territories.
 */
function decodeRing(s, off, scale) {
	const out = [];
	let x0 = off[0], y0 = off[1];
	for (let i = 0; i + 1 < s.length; i += 2) {
		let x = s.charCodeAt(i) - 64, y = s.charCodeAt(i + 1) - 64;
		x = (x >> 1) ^ -(x & 1);
		y = (y >> 1) ^ -(y & 1);
		x0 += x;
		y0 += y;
		out.push([x0 / scale, y0 / scale]);
	}
	return out;
}

function decode(json) {
	if (!json.UTF8Encoding)
		return json;
	const scale = json.UTF8Scale || 1024;
	for (const f of json.features) {
		const g = f.geometry, off = g.encodeOffsets;
		if (!off)
			continue;
		if (g.type === 'Polygon')
			g.coordinates = g.coordinates.map((r, i) =>
			    decodeRing(r, off[i], scale));
		else if (g.type === 'MultiPolygon')
			g.coordinates = g.coordinates.map((rings, k) =>
			    rings.map((r, i) => decodeRing(r, off[k][i], scale)));
		delete g.encodeOffsets;
	}
	json.UTF8Encoding = false;
	return json;
}

/* The polygons of a geometry: [[outer, hole...], ...]. */
function polygonsOf(g) {
	if (!g)
		return [];
	if (g.type === 'Polygon')
		return [g.coordinates];
	if (g.type === 'MultiPolygon')
		return g.coordinates;
	if (g.type === 'Feature')
		return polygonsOf(g.geometry);
	if (g.type === 'FeatureCollection')
		return g.features.flatMap((f) => polygonsOf(f.geometry));
	return [];
}

function bboxOf(polys) {
	const b = [Infinity, Infinity, -Infinity, -Infinity];
	for (const p of polys)
		for (const [x, y] of p[0] || []) {
			b[0] = Math.min(b[0], x); b[1] = Math.min(b[1], y);
			b[2] = Math.max(b[2], x); b[3] = Math.max(b[3], y);
		}
	return b;
}

function inRing(ring, x, y) {
	let inside = false;
	for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
		const [xi, yi] = ring[i], [xj, yj] = ring[j];
		if ((yi > y) !== (yj > y) &&
		    x < (xj - xi) * (y - yi) / (yj - yi) + xi)
			inside = !inside;
	}
	return inside;
}

function inPolys(polys, x, y) {
	for (const p of polys)
		if (inRing(p[0], x, y) && !p.slice(1).some((h) => inRing(h, x, y)))
			return true;
	return false;
}

let loaded = null;
const MAPS = {};	/* name -> [{name, label, polys, bbox}] */

function areasOf(json, labelOf) {
	return json.features.map((f) => {
		const polys = polygonsOf(f.geometry);
		return { name: f.properties.name, label: labelOf(f),
		    polys, bbox: bboxOf(polys), id: f.properties.id || f.id,
		    iso: f.properties.iso_a2 };
	});
}

function load() {
	if (loaded)
		return loaded;
	loaded = (async () => {
		if (!window.echarts)
			throw new Error(t('mp_no_lib'));
		const get = async (name) => {
			const r = await fetch('vendor/' + name,
			    { credentials: 'same-origin' });
			if (!r.ok)
				throw new Error('vendor/' + name + ': HTTP ' + r.status);
			return r.json();
		};
		const [china, world] = await Promise.all([get('china.json'),
		    get('world.json')]);
		decode(china);
		/* Antarctica takes a third of the world view's height. */
		world.features = world.features.filter((f) =>
		    f.properties.iso_a2 !== 'AQ');
		window.echarts.registerMap('china', china);
		window.echarts.registerMap('world', world);
		const en = typeof Intl.DisplayNames === 'function' ?
		    new Intl.DisplayNames(['en'], { type: 'region' }) : null;
		MAPS.china = areasOf(china, (f) => ({ zh: f.properties.name,
		    en: PROVINCE_EN[f.properties.id || f.id] || f.properties.name }));
		MAPS.world = areasOf(world, (f) => {
			let e = null;
			try {
				e = en && /^[A-Z]{2}$/.test(f.properties.iso_a2) ?
				    en.of(f.properties.iso_a2) : null;
			} catch (err) {
				e = null;
			}
			return { zh: f.properties.name, en: e || f.properties.name };
		});
	})();
	loaded.catch(() => { loaded = null; });
	return loaded;
}

function labelOf(view, name) {
	if (name === '南海诸岛')
		return t('mp_south_sea');
	const a = (MAPS[view] || []).find((x) => x.name === name);
	return a ? a.label[A.lang() === 'zh' ? 'zh' : 'en'] : name;
}

/* The area (province or country) of a point, or null. */
function areaAt(view, lng, lat) {
	for (const a of MAPS[view] || [])
		if (lng >= a.bbox[0] && lng <= a.bbox[2] && lat >= a.bbox[1] &&
		    lat <= a.bbox[3] && inPolys(a.polys, lng, lat))
			return a;
	return null;
}

/*
 * The area (province or country) a 1-degree cell counts for: the one
 * that holds most of 9 points spread over the cell (its centre alone is
 * often sea on the coast: Shanghai's cell centre is in the estuary), or
 * null when none holds any. Cached per view.
 */
const cellCache = { china: new Map(), world: new Map() };
function areaOfCell(view, lat, lng) {
	const key = lat + ',' + lng, cache = cellCache[view];
	if (cache.has(key))
		return cache.get(key);
	const votes = new Map();
	let best = null;
	for (const dy of [0.17, 0.5, 0.83])
		for (const dx of [0.17, 0.5, 0.83]) {
			const a = areaAt(view, lng + dx, lat + dy);
			if (!a)
				continue;
			const n = (votes.get(a) || 0) + 1;
			votes.set(a, n);
			if (!best || n > votes.get(best) ||
			    (n === votes.get(best) && dx === 0.5 && dy === 0.5))
				best = a;
		}
	cache.set(key, best);
	return best;
}

/*
 * The area (province, or country in the world view) of a region of GET
 * /api/v1/stats/provinces (the scans' network addresses), or null. The
 * China map names its provinces short ("广东", "内蒙古"); the server
 * gives full names ("广东省", "内蒙古自治区"), so a province is the area
 * whose name starts its zh-CN name. Hong Kong, Macao and Taiwan are
 * provinces of the China map whichever way the database files them.
 */
function areaOfRegion(view, reg) {
	if (!reg || !reg.country)
		return null;
	if (view === 'world') {
		const iso = ['HK', 'MO', 'TW'].includes(reg.country) ? 'CN' :
		    reg.country;
		const a = (MAPS.world || []).find((x) => x.iso === iso) ||
		    (MAPS.world || []).find((x) => x.iso === reg.country);
		return a ? a.name : null;
	}
	if (!['CN', 'HK', 'MO', 'TW'].includes(reg.country) || !reg.province)
		return null;
	const zh = reg.province['zh-CN'] || '';
	let best = null;
	for (const a of MAPS.china || [])
		if (zh.startsWith(a.name) && (!best || a.name.length > best.length))
			best = a.name;
	return best;
}

/* ---- territories: provinces and clicked corners to GeoJSON ---- */

function sqSegDist(p, a, b) {
	let x = a[0], y = a[1], dx = b[0] - x, dy = b[1] - y;
	if (dx !== 0 || dy !== 0) {
		const u = ((p[0] - x) * dx + (p[1] - y) * dy) / (dx * dx + dy * dy);
		if (u > 1) {
			x = b[0]; y = b[1];
		} else if (u > 0) {
			x += dx * u; y += dy * u;
		}
	}
	dx = p[0] - x;
	dy = p[1] - y;
	return dx * dx + dy * dy;
}

/* Douglas-Peucker, iterative (rings of thousands of points). */
function simplifyLine(pts, tol) {
	if (pts.length < 3)
		return pts.slice();
	const keep = new Uint8Array(pts.length);
	keep[0] = keep[pts.length - 1] = 1;
	const stack = [[0, pts.length - 1]], tol2 = tol * tol;
	while (stack.length) {
		const [s, e] = stack.pop();
		let max = 0, idx = -1;
		for (let i = s + 1; i < e; i++) {
			const d = sqSegDist(pts[i], pts[s], pts[e]);
			if (d > max) {
				max = d;
				idx = i;
			}
		}
		if (idx > 0 && max > tol2) {
			keep[idx] = 1;
			stack.push([s, idx], [idx, e]);
		}
	}
	return pts.filter((p, i) => keep[i]);
}

function ringArea(r) {
	let a = 0;
	for (let i = 0, j = r.length - 1; i < r.length; j = i++)
		a += (r[j][0] - r[i][0]) * (r[j][1] + r[i][1]);
	return a / 2;
}

const round3 = (v) => Math.round(v * 1000) / 1000;

/*
 * A ring simplified to tol degrees and rounded to 0.001° (about 100 m),
 * closed, or null when too little of it is left to be a ring.
 */
function simplifyRing(ring, tol) {
	const open = ring.length > 1 && ring[0][0] === ring[ring.length - 1][0] &&
	    ring[0][1] === ring[ring.length - 1][1] ? ring.slice(0, -1) : ring;
	/* Split at the far point so that the closing vertex is kept. */
	let far = 0, best = -1;
	for (let i = 1; i < open.length; i++) {
		const d = (open[i][0] - open[0][0]) ** 2 + (open[i][1] - open[0][1]) ** 2;
		if (d > best) {
			best = d;
			far = i;
		}
	}
	const a = simplifyLine(open.slice(0, far + 1), tol);
	const b = simplifyLine(open.slice(far).concat([open[0]]), tol);
	const out = [];
	for (const p of a.concat(b.slice(1))) {
		const q = [round3(p[0]), round3(p[1])];
		const last = out[out.length - 1];
		if (!last || last[0] !== q[0] || last[1] !== q[1])
			out.push(q);
	}
	if (out.length < 4 || Math.abs(ringArea(out)) < 1e-6)
		return null;
	const f = out[0], l = out[out.length - 1];
	if (f[0] !== l[0] || f[1] !== l[1])
		out.push([f[0], f[1]]);
	return out;
}

/* The polygons of the named provinces, simplified. */
function provincePolygons(names, tol) {
	const polys = [];
	for (const name of names) {
		const a = (MAPS.china || []).find((x) => x.name === name);
		if (!a)
			continue;
		for (const p of a.polys) {
			const outer = simplifyRing(p[0], tol);
			if (!outer)
				continue;
			polys.push([outer].concat(p.slice(1).map((h) =>
			    simplifyRing(h, tol)).filter(Boolean)));
		}
	}
	return polys;
}

/*
 * The territory of provinces and drawn polygons (each a list of corners):
 * a MultiPolygon, or null when there is nothing. The province outlines
 * are simplified (0.01°, about 1 km) and the tolerance doubled until the
 * JSON is under maxBytes (default 256 KiB; the API takes 1 MiB).
 */
function territory(provinces, drawn, maxBytes) {
	const limit = maxBytes || 256 * 1024;
	const rings = (drawn || []).filter((c) => c.length >= 3).map((c) => {
		const r = c.map((p) => [round3(p[0]), round3(p[1])]);
		r.push(r[0].slice());
		return [r];
	});
	for (let tol = 0.01; ; tol *= 2) {
		const polys = provincePolygons(provinces || [], tol).concat(rings);
		if (!polys.length)
			return null;
		const g = { type: 'MultiPolygon', coordinates: polys };
		if (JSON.stringify(g).length <= limit || tol > 1)
			return g;
	}
}

/* ---- drawing ---- */

const live = new Set();	/* charts drawn; disposed once off the page */

function sweep() {
	for (const m of live)
		if (!m.box.isConnected) {
			m.chart.dispose();
			live.delete(m);
		}
}

function cellPoints(regions) {
	const pts = [];
	for (const r of regions || []) {
		const lng = r.lng + 0.5, lat = r.lat + 0.5;
		/* scans: the brand's own codes (suspicious among them);
		 * counterfeit scans are not in scans. */
		const genuine = Math.max(0, (r.scans || 0) - (r.suspicious || 0));
		const cell = `${r.lat}°…${r.lat + 1}°N ${r.lng}°…${r.lng + 1}°E`;
		for (const [kind, n] of [['genuine', genuine],
		    ['suspicious', r.suspicious], ['diversion', r.diversion],
		    ['counterfeit', r.counterfeit]])
			if (n > 0)
				pts.push({ lng, lat, kind, n, label: cell });
	}
	return pts;
}

function option(m) {
	const o = m.opts, view = m.view;
	const sums = new Map();
	for (const r of o.regions || []) {
		const a = areaOfCell(view, r.lat, r.lng);
		if (a)
			sums.set(a.name, (sums.get(a.name) || 0) + (r.scans || 0));
	}
	/* Scans without a shared place, by their address's province. */
	for (const r of o.areas || []) {
		const name = areaOfRegion(view, r.region);
		if (name)
			sums.set(name, (sums.get(name) || 0) + (r.scans || 0) +
			    (r.counterfeit || 0) + (r.unverified || 0));
	}
	const max = Math.max(1, ...sums.values());
	const points = cellPoints(o.regions).concat(o.points || []);
	const pmax = Math.max(1, ...points.map((p) => p.n || 1));
	const size = (n) => 6 + 18 * Math.sqrt((n || 1) / pmax);
	const series = [{
		type: 'map', geoIndex: 0, name: t('mp_scans'),
		data: [...sums].filter(([, v]) => v > 0)
		    .map(([name, value]) => ({ name, value })),
	}];
	for (const kind of KINDS)
		series.push({
			type: 'scatter', coordinateSystem: 'geo', geoIndex: 0,
			name: t('mp_' + kind), z: 3 + KINDS.indexOf(kind),
			itemStyle: { color: COLOR[kind], opacity: 0.85,
			    borderColor: '#fff', borderWidth: 1 },
			symbolSize: (v) => size(v[2]),
			data: points.filter((p) => p.kind === kind).map((p) =>
			    ({ value: [p.lng, p.lat, p.n || 1], label: p.label })),
		});
	const terr = [];
	for (const tr of o.territories || [])
		for (const p of polygonsOf(tr.territory))
			terr.push({ ring: p[0], name: tr.name });
	series.push(polySeries(t('mp_territory'), terr, COLOR.territory, 0.18));
	if (o.pick) {
		const draft = m.corners.length ? [{ ring: m.corners, name:
		    t('mp_draft'), open: true }] : [];
		const picked = polygonsOf(territory(m.picked, m.drawn) ||
		    { type: 'MultiPolygon', coordinates: [] }).map((p) =>
		    ({ ring: p[0], name: t('mp_territory') }));
		series.push(polySeries(t('mp_territory') + ' ', picked,
		    COLOR.draft, 0.25));
		series.push(polySeries(t('mp_draft'), draft, COLOR.draft, 0));
	}
	const legend = series.slice(1).filter((s) => s.data.length)
	    .map((s) => s.name);
	return {
		animation: false,
		tooltip: { trigger: 'item', renderMode: 'richText',
		    formatter: (p) => tip(m, p) },
		legend: { data: legend, bottom: 0, textStyle: { fontSize: 13 } },
		visualMap: o.regions || o.areas ? { type: 'continuous', min: 0, max, seriesIndex: 0,
		    left: 8, bottom: 36,
		    text: [fmt(max) + ' ' + t('mp_scans'), '0'],
		    calculable: false, itemHeight: 110,
		    textStyle: { fontSize: 12 },
		    inRange: { color: ['#e8f0fe', '#7aa7f5', '#1f4fbf'] } } :
		    undefined,
		geo: {
			map: view, roam: true,
			...(view === 'china' && o.focus ? focusView(o.focus) : {}),
			scaleLimit: { min: 0.8, max: 30 },
			itemStyle: { areaColor: '#f3f4f6', borderColor: '#8b95a7',
			    borderWidth: 0.8 },
			emphasis: { label: { show: false },
			    itemStyle: { areaColor: '#fde68a' } },
			select: { disabled: true },
			label: { show: false },
			regions: o.pick ? m.picked.map((name) => ({ name,
			    itemStyle: { areaColor: '#fca5a5',
			    borderColor: '#b91c1c', borderWidth: 1.2 } })) : [],
		},
		series,
	};
}

/*
 * The China view around a GeoJSON geometry: centred on its box, zoomed
 * so that the box with a margin fills about the map (China is about 62
 * by 36 degrees), never closer than 6 degrees across.
 */
function focusView(g) {
	const b = bboxOf(polygonsOf(g));
	if (!isFinite(b[0]))
		return {};
	const w = Math.max(6, (b[2] - b[0]) * 1.6);
	const h = Math.max(4, (b[3] - b[1]) * 1.6);
	return { center: [(b[0] + b[2]) / 2, (b[1] + b[3]) / 2],
	    zoom: Math.max(1, Math.min(12, 62 / w, 36 / h)) };
}

function polySeries(name, polys, color, alpha) {
	return {
		type: 'custom', coordinateSystem: 'geo', geoIndex: 0, name, z: 2,
		itemStyle: { color },
		data: polys.map((p) => ({ value: p.ring[0], name: p.name })),
		renderItem: (params, api) => {
			const p = polys[params.dataIndex];
			const pts = p.ring.map((c) => api.coord(c));
			if (p.open)
				return { type: 'group', children: [
				    { type: 'polyline', shape: { points: pts },
				      style: { stroke: color, lineWidth: 2,
				      fill: null, lineDash: [4, 3] } }].concat(
				    pts.map((c) => ({ type: 'circle',
				      shape: { cx: c[0], cy: c[1], r: 4 },
				      style: { fill: color } }))) };
			return { type: 'polygon', shape: { points: pts },
			    style: { fill: alpha ? hexAlpha(color, alpha) : 'none',
			    stroke: color, lineWidth: 2 } };
		},
	};
}

function hexAlpha(hex, a) {
	const n = parseInt(hex.slice(1), 16);
	return `rgba(${n >> 16},${(n >> 8) & 255},${n & 255},${a})`;
}

function tip(m, p) {
	if (p.seriesType === 'map' || p.componentType === 'geo')
		return m.opts.regions || m.opts.areas ?
		    `${labelOf(m.view, p.name)}\n` +
		    `${t('mp_scans')}: ${fmt(p.value > 0 ? p.value : 0)}` :
		    labelOf(m.view, p.name);
	if (p.seriesType === 'scatter')
		return `${p.seriesName}: ${fmt(p.value[2])}\n${p.data.label || ''}`;
	return `${p.seriesName}: ${p.name || ''}`;
}

/*
 * Draws the map into box; resolves to a handle: {chart, view(name),
 * update(opts), picked(), territory(), clear(), undo(), closeRing(),
 * inspect()}.
 */
async function china(box, opts) {
	sweep();
	const wrap = el('div', { class: 'map-box' });
	const note = el('p', { class: 'muted small' },
	    opts && opts.regions ? t('mp_note') : t('mp_roam'));
	if (opts && opts.areas)
		note.appendChild(el('span', { id: 'map-ip-note' }, ' ' + t(
		    opts.geoip === 'off' ? 'mp_ip_off' : 'mp_ip_note')));
	const viewBtns = el('div', { class: 'seg map-views' });
	box.appendChild(el('div', {}, viewBtns, wrap, note));
	try {
		await load();
	} catch (e) {
		wrap.remove();
		note.remove();
		box.appendChild(el('div', { class: 'notice error' },
		    e.message || String(e)));
		throw e;
	}
	const m = { box: wrap, opts: Object.assign({}, opts),
	    view: (opts && opts.view) || 'china', picked: [], drawn: [],
	    corners: [], mode: 'provinces' };
	/* pick.start: a territory to edit; its polygons' outer rings become
	 * drawn polygons (distributors.js's edit mode). */
	const start = opts && opts.pick && opts.pick.start;
	if (start && (start.type === 'Polygon' || start.type === 'MultiPolygon'))
		m.drawn = (start.type === 'Polygon' ? [start.coordinates] :
		    start.coordinates).map((p) => (p[0] || []).slice(0, -1)
		    .map((c) => [c[0], c[1]])).filter((r) => r.length >= 3);
	m.chart = window.echarts.init(wrap, null, { renderer: 'svg' });
	live.add(m);
	const draw = () => {
		m.chart.setOption(option(m), { notMerge: true });
		wrap.dataset.view = m.view;
		wrap.dataset.picked = m.picked.join(',');
		wrap.dataset.corners = String(m.corners.length);
		wrap.dataset.polygons = String(m.drawn.length);
	};
	const changed = () => {
		draw();
		if (m.opts.pick && m.opts.pick.onChange)
			m.opts.pick.onChange(handle);
	};
	for (const v of ['china', 'world']) {
		const b = el('button', { type: 'button', class: 'seg-item' +
		    (v === m.view ? ' on' : ''), 'data-page': 'map-' + v,
		    on: { click: () => {
			m.view = v;
			for (const x of viewBtns.children)
				x.classList.toggle('on', x === b);
			draw();
		    } } }, t('mp_' + v));
		viewBtns.appendChild(b);
	}
	m.chart.on('click', (p) => {
		if (!m.opts.pick || m.mode !== 'provinces' || m.view !== 'china' ||
		    p.seriesType !== 'map' || !p.name || p.name === '南海诸岛')
			return;
		const i = m.picked.indexOf(p.name);
		if (i >= 0)
			m.picked.splice(i, 1);
		else
			m.picked.push(p.name);
		changed();
	});
	m.chart.getZr().on('click', (ev) => {
		if (!m.opts.pick || m.mode !== 'corners')
			return;
		const c = m.chart.convertFromPixel({ geoIndex: 0 },
		    [ev.offsetX, ev.offsetY]);
		if (!c || !isFinite(c[0]) || !isFinite(c[1]))
			return;
		m.corners.push([round3(c[0]), round3(c[1])]);
		changed();
	});
	/*
	 * Resized only when the box really changed size (not for the
	 * observer's first call): ECharts 6 can fail in a geo resize that
	 * comes while it sets up the map, and a redraw puts it right.
	 */
	let size = wrap.clientWidth + 'x' + wrap.clientHeight;
	if (window.ResizeObserver)
		new ResizeObserver(() => {
			const now = wrap.clientWidth + 'x' + wrap.clientHeight;
			if (!wrap.isConnected || now === size || !wrap.clientWidth)
				return;
			size = now;
			try {
				m.chart.resize();
			} catch (e) {
				draw();
			}
		}).observe(wrap);
	const handle = {
		chart: m.chart,
		view: (v) => { m.view = v; draw(); },
		update: (o) => { Object.assign(m.opts, o); draw(); },
		mode: (x) => { m.mode = x; },
		picked: () => m.picked.slice(),
		labelOf: (name) => labelOf('china', name),
		provinces: () => (MAPS.china || []).map((a) => a.name),
		toggle: (name) => {
			const i = m.picked.indexOf(name);
			if (i >= 0)
				m.picked.splice(i, 1);
			else if (MAPS.china.some((a) => a.name === name))
				m.picked.push(name);
			changed();
		},
		corners: () => m.corners.slice(),
		drawn: () => m.drawn.length,
		closeRing: () => {
			if (m.corners.length < 3)
				return false;
			m.drawn.push(m.corners);
			m.corners = [];
			changed();
			return true;
		},
		undo: () => {
			if (m.corners.length)
				m.corners.pop();
			else
				m.drawn.pop();
			changed();
		},
		clear: () => {
			m.picked = [];
			m.drawn = [];
			m.corners = [];
			changed();
		},
		territory: (max) => territory(m.picked, m.drawn.concat(
		    m.corners.length >= 3 ? [m.corners] : []), max),
		inspect: () => inspect(m),
	};
	draw();
	return handle;
}

/* What the map shows, for tests and for the pages' own checks. */
function inspect(m) {
	const o = m.chart.getOption();
	const series = {};
	for (const s of o.series)
		series[s.name.trim() + (s.type === 'custom' &&
		    s.name !== s.name.trim() ? '+' : '')] = (s.data || []).length;
	return { view: m.view, map: o.geo[0].map,
	    areas: (MAPS[m.view] || []).length,
	    paths: m.box.querySelectorAll('path').length, series };
}

window.sigilMap = Object.freeze({ china, load, territory,
    provinces: () => (MAPS.china || []).map((a) => a.name),
    areaOfRegion: (region, view) => areaOfRegion(view || 'china', region),
    areaOfCell: (lat, lng, view) => {
	    const a = areaOfCell(view || 'china', lat, lng);
	    return a ? a.name : null;
    },
    labelOf: (name, view) => labelOf(view || 'china', name) });

})();
