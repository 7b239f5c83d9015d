/*
 * distributors.js - the dashboard's distributors page (issue 19 item 5):
 * the list (with GLN), one distributor with its territory drawn on the
 * map, and (admins) a new distributor, or a change of one (name, GLN,
 * territory; the editor starts from the current territory), whose
 * territory is drawn on the map, never typed as GeoJSON: whole provinces picked by clicking them
 * (their outlines, simplified, become the polygons of a MultiPolygon)
 * and/or polygons drawn by clicking their corners. The server checks the
 * territory (422 bad_territory): its message is shown in the page's
 * language, by what it says (the code alone would not tell which ring).
 *
 * API: GET /api/v1/distributors (50 a page, "more" for the next),
 * GET /api/v1/distributors/{id}, POST /api/v1/distributors and PATCH
 * /api/v1/distributors/{id} (admin; only the fields changed are sent).
 */
'use strict';

(function () {

const A = window.sigilAdmin;
if (!A)
	return;
const { el, append, clear, t, api, fmt, loading, failure, table,
    when } = A;

Object.assign(A.TEXT.zh, {
	distributors: '经销商',
	ds_new: '新建经销商', ds_name: '名称', ds_gln: 'GLN（全球位置码，可选）',
	ds_territory: '经销区域', ds_view: '查看', ds_back: '返回列表',
	ds_mode_provinces: '点选省份', ds_mode_corners: '点击描点绘制多边形',
	ds_close_ring: '完成此多边形', ds_undo: '撤销', ds_clear: '清空',
	ds_add_province: '或从列表添加省份…',
	ds_picked: '已选省份', ds_polygons: '已绘多边形',
	ds_corners: '当前角点', ds_size: '区域数据',
	ds_help_provinces: '在地图上点击省份即可选中或取消；所选省份的边界（简化到约 1 公里）组成经销区域。',
	ds_help_corners: '在地图上依次点击多边形的角点（至少 3 个），再点“完成此多边形”。可与省份组合。',
	ds_created: '已创建经销商', ds_none_picked: '请先在地图上选择省份或绘制多边形',
	ds_name_required: '请填写名称', ds_count: '已显示 {n} 个经销商',
	ds_count_more: '，还有更多',
	ds_no_territory: '无区域', ds_gln_none: '–',
	ds_not_found: '没有这个经销商。', ds_shipments: '发往此经销商的货',
	ds_leave: '离开此页？', ds_leave_note: '尚未保存的经销商和区域将丢失。',
	ds_err_bad_gln: 'GLN 无效：应为 13 位数字且 GS1 校验位正确',
	ds_err_invalid: '输入无效（名称 1–200 个字符）',
	ds_err_forbidden: '只有管理员可以新建经销商',
	ds_edit: '编辑经销商', ds_saved: '已保存经销商',
	ds_err_forbidden_edit: '只有管理员可以修改经销商',
	ds_unchanged: '没有修改',
	ds_help_edit: '现有区域已画在地图上（作为多边形）。可添加省份或多边形，或“撤销”“清空”后重画；不动区域则区域保持不变。',
	ds_err_too_large: '区域数据过大，请减少省份或角点',
	ds_bt: '经销区域无效', ds_bt_where: '第 {p} 个多边形第 {r} 个环：',
	ds_bt_closed: '环未闭合（首尾坐标不同）',
	ds_bt_zero: '面积为零（角点重合或在一条直线上）',
	ds_bt_four: '至少需要 3 个不同的角点',
	ds_bt_many_v: '顶点过多', ds_bt_many_r: '多边形或环过多',
	ds_bt_lng: '经度须在 -180 到 180 之间', ds_bt_lat: '纬度须在 -90 到 90 之间',
	ds_bt_num: '坐标须为有限数值', ds_bt_type: '类型须为多边形',
});
Object.assign(A.TEXT.en, {
	distributors: 'Distributors',
	ds_new: 'New distributor', ds_name: 'Name',
	ds_gln: 'GLN (Global Location Number, optional)',
	ds_territory: 'Territory', ds_view: 'View', ds_back: 'Back to the list',
	ds_mode_provinces: 'Pick provinces', ds_mode_corners: 'Click corners of a polygon',
	ds_close_ring: 'Finish this polygon', ds_undo: 'Undo', ds_clear: 'Clear',
	ds_add_province: 'or add a province from the list…',
	ds_picked: 'Provinces picked', ds_polygons: 'Polygons drawn',
	ds_corners: 'Corners so far', ds_size: 'Territory data',
	ds_help_provinces: 'Click a province on the map to pick it or drop it; ' +
	    'the outlines of the provinces picked (simplified to about 1 km) ' +
	    'make the territory.',
	ds_help_corners: 'Click the corners of a polygon on the map in turn ' +
	    '(3 or more), then "Finish this polygon". Provinces can be added too.',
	ds_created: 'Distributor created',
	ds_none_picked: 'Pick provinces or draw a polygon on the map first',
	ds_name_required: 'Please give a name',
	ds_count: '{n} distributors shown', ds_count_more: '; there are more',
	ds_no_territory: 'no territory', ds_gln_none: '–',
	ds_not_found: 'No such distributor.',
	ds_shipments: 'Shipments to this distributor',
	ds_leave: 'Leave this page?',
	ds_leave_note: 'The distributor and territory not saved yet are lost.',
	ds_err_bad_gln: 'Not a GLN: 13 digits with a correct GS1 check digit',
	ds_err_invalid: 'Invalid input (a name of 1-200 characters)',
	ds_err_forbidden: 'Only admins can add distributors',
	ds_edit: 'Edit distributor', ds_saved: 'Distributor saved',
	ds_err_forbidden_edit: 'Only admins can change distributors',
	ds_unchanged: 'Nothing changed',
	ds_help_edit: 'The current territory is drawn on the map (as polygons). ' +
	    'Add provinces or polygons, or undo or clear and draw again; left ' +
	    'alone, the territory stays as it is.',
	ds_err_too_large: 'The territory is too large: fewer provinces or corners',
	ds_bt: 'The territory is not valid', ds_bt_where: 'polygon {p}, ring {r}: ',
	ds_bt_closed: 'the ring is not closed',
	ds_bt_zero: 'it has zero area (corners on one spot or on a line)',
	ds_bt_four: 'it needs 3 distinct corners or more',
	ds_bt_many_v: 'too many vertices', ds_bt_many_r: 'too many polygons or rings',
	ds_bt_lng: 'longitude must be in [-180, 180]',
	ds_bt_lat: 'latitude must be in [-90, 90]',
	ds_bt_num: 'coordinates must be finite numbers',
	ds_bt_type: 'it must be a polygon',
});

/*
 * The server's bad_territory message in the page's language: where
 * (polygon, ring) and what, from the phrases geo.c uses; anything else
 * is the generic line (never the English text in zh-CN).
 */
const BT = [[/not closed/, 'ds_bt_closed'], [/zero area/, 'ds_bt_zero'],
    [/at least 4 positions/, 'ds_bt_four'], [/too many vertices/, 'ds_bt_many_v'],
    [/too many rings/, 'ds_bt_many_r'], [/longitude/, 'ds_bt_lng'],
    [/latitude/, 'ds_bt_lat'], [/finite|numbers/, 'ds_bt_num'],
    [/type|Feature|polygon coordinates/, 'ds_bt_type']];

function territoryMessage(msg) {
	const m = String(msg || '');
	const where = m.match(/polygon (\d+), ring (\d+)/);
	const hit = BT.find(([re]) => re.test(m));
	return t('ds_bt') + (hit ? (A.lang() === 'zh' ? '：' : ': ') +
	    (where ? t('ds_bt_where').replace('{p}', where[1])
	    .replace('{r}', where[2]) : '') + t(hit[1]) : '');
}

function errorText(e, editing) {
	if (e.code === 'bad_territory')
		return territoryMessage(e.message);
	if (editing && e.status === 404)
		return t('ds_not_found');
	const key = { bad_gln: 'ds_err_bad_gln', invalid: 'ds_err_invalid',
	    forbidden: editing ? 'ds_err_forbidden_edit' : 'ds_err_forbidden',
	    too_large: 'ds_err_too_large' }[e.code];
	return key ? t(key) : A.errText(e);
}

const kib = (n) => (n / 1024).toFixed(n < 10240 ? 1 : 0) + ' KiB';

/* ---- the list ---- */

const PAGE = 50;

async function listView(box) {
	const bar = el('div', { class: 'toolbar' }, el('h1', {},
	    t('distributors')), el('span', { class: 'spacer' }));
	if (A.can.admin())
		bar.appendChild(el('a', { class: 'button primary', id: 'ds-new',
		    href: '#/distributors?new=1' }, t('ds_new')));
	const card = el('div', { class: 'card', id: 'ds-list' });
	append(box, [bar, card]);
	loading(card);
	const list = [];
	let next = null;
	const draw = () => {
		append(clear(card), [el('p', { class: 'muted' },
		    t('ds_count').replace('{n}', fmt(list.length)) +
		    (next !== null ? t('ds_count_more') : '')), table([
		    { label: '#', key: 'id' },
		    { label: t('ds_name'), key: 'name' },
		    { label: 'GLN', render: (d) => d.gln ?
		      el('span', { class: 'mono' }, d.gln) : t('ds_gln_none') },
		    { label: t('created'), render: (d) => when(d.created) },
		    { label: t('actions'), render: (d) => el('a', {
		      href: '#/distributors?id=' + d.id, class: 'button',
		      'data-page': 'ds-view-' + d.id }, t('ds_view')) },
		], list), next === null ? null : el('button', { type: 'button',
		    id: 'ds-more', on: { click: () => more() } }, t('more'))]);
	};
	const more = async () => {
		try {
			const doc = await api('GET', '/api/v1/distributors?limit=' +
			    PAGE + (next !== null ? '&after=' +
			    encodeURIComponent(next) : ''));
			list.push(...(doc.distributors || []));
			next = doc.next === undefined ? null : doc.next;
			draw();
		} catch (e) {
			failure(card, e, () => A.route());
		}
	};
	await more();
}

/* ---- one distributor ---- */

async function detailView(box, id) {
	const bar = el('div', { class: 'toolbar' },
	    el('a', { href: '#/distributors', class: 'button' }, t('ds_back')));
	box.appendChild(bar);
	const card = el('div', { class: 'card', id: 'ds-detail' });
	box.appendChild(card);
	loading(card);
	let d;
	try {
		d = await api('GET', '/api/v1/distributors/' +
		    encodeURIComponent(id));
	} catch (e) {
		if (e.status === 404)
			append(clear(card), [el('div', { class: 'notice error' },
			    t('ds_not_found'))]);
		else
			failure(card, e, () => A.route());
		return;
	}
	const polys = d.territory && d.territory.type === 'MultiPolygon' ?
	    d.territory.coordinates.length : d.territory ? 1 : 0;
	bar.appendChild(el('a', { href: '#/shipments?distributor=' +
	    encodeURIComponent(d.id), class: 'button', id: 'ds-shipments' },
	    t('ds_shipments')));
	if (A.can.admin())
		bar.appendChild(el('a', { href: '#/distributors?id=' +
		    encodeURIComponent(d.id) + '&edit=1', class: 'button',
		    id: 'ds-edit' }, t('edit')));
	append(clear(card), [el('h1', {}, d.name), el('dl', { class: 'facts' },
	    el('dt', {}, '#'), el('dd', {}, String(d.id)),
	    el('dt', {}, 'GLN'), el('dd', { class: 'mono' },
	    d.gln || t('ds_gln_none')),
	    el('dt', {}, t('created')), el('dd', {}, when(d.created)),
	    el('dt', {}, t('ds_territory')), el('dd', {}, d.territory ?
	    `${d.territory.type} · ${fmt(polys)}` : t('ds_no_territory')))]);
	const mapBox = el('div', { id: 'ds-map' });
	box.appendChild(el('div', { class: 'card' }, el('h2', {},
	    t('ds_territory')), mapBox));
	await window.sigilMap.china(mapBox, { territories: d.territory ?
	    [{ name: d.name, territory: d.territory }] : [],
	    focus: d.territory || undefined })
	    .catch(() => null);
}

/* ---- a new distributor, or a change of one (d: as GET gives it) ---- */

async function createView(box, d) {
	const title = d ? t('ds_edit') : t('ds_new');
	append(box, [el('div', { class: 'toolbar' }, el('h1', {}, title),
	    el('span', { class: 'spacer' }),
	    el('a', { href: d ? '#/distributors?id=' + encodeURIComponent(d.id) :
	    '#/distributors', class: 'button' }, t('ds_back')))]);
	const msg = el('div', { class: 'notice error', id: 'ds-error',
	    hidden: true, role: 'alert' });
	const name = el('input', { id: 'ds-name', maxlength: '200',
	    required: true, autocomplete: 'off' });
	const gln = el('input', { id: 'ds-gln', inputmode: 'numeric',
	    maxlength: '13', autocomplete: 'off', placeholder: '9520123456787' });
	const picked = el('div', { class: 'ds-picked', id: 'ds-picked' });
	const drawn = el('span', { id: 'ds-drawn' }, '0');
	const corners = el('span', { id: 'ds-corners' }, '0');
	const size = el('span', { id: 'ds-size' }, '–');
	const help = el('p', { class: 'muted small', id: 'ds-help' },
	    t(d ? 'ds_help_edit' : 'ds_help_provinces'));
	if (d) {
		name.value = d.name;
		gln.value = d.gln || '';
	}
	let touched = false;	/* the territory changed on the map */
	const closeBtn = el('button', { type: 'button', id: 'ds-close-ring',
	    disabled: true }, t('ds_close_ring'));
	const modes = el('div', { class: 'seg', role: 'radiogroup' });
	const addSel = el('select', { id: 'ds-add-province' });
	const save = el('button', { type: 'submit', class: 'primary',
	    id: 'ds-save' }, d ? t('save') : t('create'));
	const mapBox = el('div', { id: 'ds-map' });
	const form = el('form', { id: 'ds-form', class: 'card' },
	    el('h2', {}, title), msg,
	    el('div', { class: 'stack' },
	    el('label', { class: 'wide' }, t('ds_name'), name),
	    el('label', { class: 'wide' }, t('ds_gln'), gln)),
	    el('h3', { class: 'ds-h' }, t('ds_territory')), modes, help,
	    el('dl', { class: 'facts' },
	    el('dt', {}, t('ds_picked')), el('dd', {}, picked),
	    el('dt', {}, t('ds_polygons')), el('dd', {}, drawn),
	    el('dt', {}, t('ds_corners')), el('dd', {}, corners),
	    el('dt', {}, t('ds_size')), el('dd', {}, size)),
	    el('div', { class: 'toolbar' }, addSel, closeBtn,
	    el('button', { type: 'button', id: 'ds-undo', on: { click: () =>
	      map && map.undo() } }, t('ds_undo')),
	    el('button', { type: 'button', id: 'ds-clear', on: { click: () =>
	      map && map.clear() } }, t('ds_clear'))),
	    el('div', { class: 'actions' }, save));
	box.appendChild(el('div', { class: 'ds-layout' },
	    el('div', { class: 'card' }, mapBox), form));
	let map = null;
	const refresh = () => {
		clear(picked);
		for (const p of map.picked())
			picked.appendChild(el('button', { type: 'button',
			    class: 'pill info', title: t('remove'), on: { click: () =>
			    map.toggle(p) } }, map.labelOf(p), ' ×'));
		drawn.textContent = String(map.drawn());
		corners.textContent = String(map.corners().length);
		closeBtn.disabled = map.corners().length < 3;
		const g = map.territory();
		size.textContent = g ? kib(JSON.stringify(g).length) : '–';
	};
	try {
		map = await window.sigilMap.china(mapBox, { pick: { onChange:
		    () => { touched = true; refresh(); },
		    start: d ? d.territory : undefined },
		    focus: d && d.territory ? d.territory : undefined });
	} catch (e) {
		save.disabled = true;
		return;
	}
	let mode = 'provinces';
	for (const m of ['provinces', 'corners']) {
		const b = el('button', { type: 'button', class: 'seg-item' +
		    (m === mode ? ' on' : ''), id: 'ds-mode-' + m,
		    role: 'radio', 'aria-label': t('ds_mode_' + m),
		    on: { click: () => {
			mode = m;
			map.mode(m);
			for (const x of modes.children)
				x.classList.toggle('on', x === b);
			help.textContent = t('ds_help_' + m);
		    } } }, t('ds_mode_' + m));
		modes.appendChild(b);
	}
	addSel.appendChild(el('option', { value: '' }, t('ds_add_province')));
	for (const p of map.provinces())
		addSel.appendChild(el('option', { value: p }, map.labelOf(p)));
	addSel.addEventListener('change', () => {
		if (addSel.value && !map.picked().includes(addSel.value))
			map.toggle(addSel.value);
		addSel.value = '';
	});
	closeBtn.addEventListener('click', () => map.closeRing());
	refresh();
	/* Leaving with a territory or name not saved asks first. */
	const untouched = () => d ? !touched && name.value.trim() === d.name &&
	    gln.value.trim() === (d.gln || '') : !map.territory() &&
	    !map.corners().length && !name.value.trim();
	A.setLeaveGuard(async () => untouched() || await A.confirmBox(
	    t('ds_leave'), el('p', {}, t('ds_leave_note'))));
	const show = (text) => {
		msg.textContent = text;
		msg.hidden = false;
	};
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		msg.hidden = true;
		if (!name.value.trim()) {
			show(t('ds_name_required'));
			name.focus();
			return;
		}
		const territory = !d || touched ? map.territory() : null;
		if ((!d || touched) && !territory) {
			show(t('ds_none_picked'));
			return;
		}
		let body = { name: name.value.trim(), territory };
		if (gln.value.trim())
			body.gln = gln.value.trim();
		if (d) {
			/* Only what changed: a territory left alone is not sent. */
			body = {};
			if (name.value.trim() !== d.name)
				body.name = name.value.trim();
			if (gln.value.trim() !== (d.gln || ''))
				body.gln = gln.value.trim() || null;
			if (touched)
				body.territory = territory;
			if (!Object.keys(body).length) {
				show(t('ds_unchanged'));
				return;
			}
		}
		save.disabled = true;
		try {
			const r = d ? await api('PATCH', '/api/v1/distributors/' +
			    encodeURIComponent(d.id), body) :
			    await api('POST', '/api/v1/distributors', body);
			A.setLeaveGuard(null);
			A.toast(t(d ? 'ds_saved' : 'ds_created'));
			location.hash = '#/distributors?id=' + r.id;
		} catch (e) {
			show(errorText(e, !!d));
			if (e.code === 'bad_gln')
				gln.setAttribute('aria-invalid', 'true');
		} finally {
			save.disabled = false;
		}
	});
	gln.addEventListener('input', () => gln.removeAttribute('aria-invalid'));
}

/* The edit form, from the distributor as it is now. */
async function editView(box, id) {
	const wait = el('div', { class: 'card' });
	box.appendChild(wait);
	loading(wait);
	let d;
	try {
		d = await api('GET', '/api/v1/distributors/' + encodeURIComponent(id));
	} catch (e) {
		if (e.status === 404)
			append(clear(wait), [el('div', { class: 'notice error' },
			    t('ds_not_found'))]);
		else
			failure(wait, e, () => A.route());
		return;
	}
	wait.remove();
	return createView(box, d);
}

async function distributorsPage(box, params) {
	if (params.get('new') && A.can.admin())
		return createView(box);
	if (params.get('id') && params.get('edit') && A.can.admin())
		return editView(box, params.get('id'));
	if (params.get('id'))
		return detailView(box, params.get('id'));
	return listView(box);
}

A.registerPage('distributors', 'lookup', distributorsPage,
    { group: 'trace' });

})();
