/*
 * sellers.js - the channel page (issue 21 item 5): the brand's stores
 * under their distributors and the sellers (导购) in each, as a tree;
 * per-store and per-seller results (codes opened, codes they cover,
 * scans, consumer claims, rebates paid to the seller); a new store and a
 * seller's assignment (admins); the move of a bound code to another
 * seller (operators); the channel CSV.
 *
 * API: GET /api/v1/channel/tree, GET /api/v1/channel/results,
 * POST /api/v1/stores, DELETE /api/v1/stores/{id},
 * POST /api/v1/stores/{id}/sellers, DELETE
 * /api/v1/stores/{id}/sellers/{customer}, POST /api/v1/bindings/move,
 * GET /api/v1/exports/channel.csv.
 */
'use strict';

(function () {

const A = window.sigilAdmin, P = window.sigilPeople;
if (!A || !P)
	return;
const { el, append, clear, t, api, can, toast, confirmBox, loading, failure,
    table } = A;

Object.assign(A.TEXT.zh, {
	sellers: '渠道与导购', sl_title: '渠道与导购（经销商 › 门店 › 导购）',
	sl_tree: '渠道结构', sl_results: '门店业绩', sl_seller_results: '导购业绩',
	sl_store: '门店', sl_city: '城市', sl_dist: '经销商', sl_seller: '导购',
	sl_role: '身份', sl_sales: '导购', sl_retailer: '店主', sl_phone: '手机号',
	sl_bound: '开箱数', sl_codes: '覆盖码数', sl_scans: '扫码次数',
	sl_claims: '领取次数', sl_rebates: '返利笔数', sl_rebate_points: '返利积分',
	sl_no_stores: '此经销商下还没有门店', sl_no_sellers: '还没有导购',
	sl_no_dists: '还没有经销商：请先在“经销商”页面新建', sl_new_store: '新建门店',
	sl_name: '门店名称', sl_create: '创建', sl_created: '已创建门店',
	sl_add_seller: '添加导购', sl_customer: '会员编号', sl_add: '添加',
	sl_added: '已添加导购', sl_remove: '移出门店', sl_removed: '已移出门店',
	sl_remove_q: '将此导购移出门店？其已开箱的码仍归属门店，但之后的领取不再给他返利。',
	sl_delete: '删除门店', sl_deleted: '已删除门店',
	sl_delete_q: '删除这个没有导购和开箱记录的门店？',
	sl_move: '调整开箱归属', sl_code: '码（或码的网址）',
	sl_to_seller: '新导购的会员编号（留空则解除绑定）', sl_move_go: '调整',
	sl_moved: '已调整归属', sl_export: '下载渠道 CSV',
	sl_nobody: '（已删除的导购）', sl_admin_only: '只有管理员可以新建门店和添加导购。',
	sl_truncated: '码太多，只统计了一部分。', sl_none_yet: '还没有开箱记录',
	sl_err_not_staff: '此会员还不是导购：请选择身份（导购或店主）',
	sl_err_store_in_use: '门店还有导购或开箱记录，不能删除',
	sl_err_not_seller: '新归属的会员不是任何门店的导购',
	sl_err_unknown_distributor: '请选择一个经销商',
	sl_what: '导购在门店开箱时扫码绑定整箱或单品；顾客领取积分时，带“导购返利”的活动会把返利积分计入导购自己的积分账户。每个码按最近的绑定（单品、箱、托）归属。',
});
Object.assign(A.TEXT.en, {
	sellers: 'Channel', sl_title: 'Channel and sellers (distributor › store › seller)',
	sl_tree: 'The channel', sl_results: 'Results by store',
	sl_seller_results: 'Results by seller', sl_store: 'Store', sl_city: 'City',
	sl_dist: 'Distributor', sl_seller: 'Seller', sl_role: 'Role',
	sl_sales: 'Sales', sl_retailer: 'Retailer', sl_phone: 'Phone',
	sl_bound: 'Opened', sl_codes: 'Codes covered', sl_scans: 'Scans',
	sl_claims: 'Claims', sl_rebates: 'Rebates', sl_rebate_points: 'Rebate points',
	sl_no_stores: 'No stores under this distributor yet',
	sl_no_sellers: 'No sellers yet',
	sl_no_dists: 'No distributors yet: add one on the Distributors page first',
	sl_new_store: 'New store', sl_name: 'Store name', sl_create: 'Create',
	sl_created: 'Store created', sl_add_seller: 'Add a seller',
	sl_customer: 'Customer id', sl_add: 'Add', sl_added: 'Seller added',
	sl_remove: 'Take off the store', sl_removed: 'Seller taken off the store',
	sl_remove_q: 'Take this seller off the store? The codes they opened stay ' +
	    'with the store, but later claims pay them no rebate.',
	sl_delete: 'Delete store', sl_deleted: 'Store deleted',
	sl_delete_q: 'Delete this store, which has no sellers and no bound codes?',
	sl_move: 'Move a bound code', sl_code: 'Code (or its URL)',
	sl_to_seller: "New seller's customer id (empty: unbind)",
	sl_move_go: 'Move', sl_moved: 'Binding moved',
	sl_export: 'Download channel CSV', sl_nobody: '(erased seller)',
	sl_admin_only: 'Only admins may create stores and add sellers.',
	sl_truncated: 'Too many codes: only part of them is counted.',
	sl_none_yet: 'Nothing opened yet',
	sl_err_not_staff: 'This customer is not staff yet: choose a role (sales or retailer)',
	sl_err_store_in_use: 'The store still has sellers or bound codes',
	sl_err_not_seller: 'The new owner is not a seller of any store',
	sl_err_unknown_distributor: 'Choose a distributor',
	sl_what: 'A seller scans a case or an item when opening it in the store ' +
	    'and binds it there; when a consumer claims, a campaign with a ' +
	    'seller rebate pays the rebate into the seller\'s own ledger. Each ' +
	    'code belongs to its nearest binding (item, case, pallet).',
});

const roleText = (r) => r === 'sales' ? t('sl_sales') : r === 'retailer' ?
    t('sl_retailer') : '–';
const num = (key, label) => ({ label: t(label), key, num: true });

function resultCols(first) {
	return first.concat([num('bound', 'sl_bound'), num('codes', 'sl_codes'),
	    num('scans', 'sl_scans'), num('claims', 'sl_claims'),
	    num('rebates', 'sl_rebates'), num('rebate_points',
	    'sl_rebate_points')]);
}

function storeForm(dists, reload) {
	const name = el('input', { name: 'name', maxlength: 200, required: true,
	    'aria-label': t('sl_name'), placeholder: t('sl_name') });
	const city = el('input', { name: 'city', maxlength: 64,
	    'aria-label': t('sl_city'), placeholder: t('sl_city') });
	const dist = el('select', { name: 'distributor', 'aria-label':
	    t('sl_dist') }, dists.map((d) => el('option', { value: d.id },
	    d.name)));
	const submit = async (ev) => {
		ev.preventDefault();
		try {
			await api('POST', '/api/v1/stores', { name: name.value,
			    city: city.value, distributor: Number(dist.value) });
			toast(t('sl_created'));
			reload();
		} catch (e) {
			toast(A.errText(e, 'sl_err_'), true);
		}
	};
	return el('form', { class: 'toolbar', id: 'store-new', on: { submit } },
	    el('strong', {}, t('sl_new_store')), ' ', dist, name, city,
	    el('button', { type: 'submit', class: 'primary' }, t('sl_create')));
}

function sellerForm(store, reload) {
	const id = el('input', { name: 'customer', inputmode: 'numeric',
	    size: 8, 'aria-label': t('sl_customer'), placeholder:
	    t('sl_customer') });
	const role = el('select', { name: 'role', 'aria-label': t('sl_role') },
	    el('option', { value: 'sales' }, t('sl_sales')),
	    el('option', { value: 'retailer' }, t('sl_retailer')));
	const submit = async (ev) => {
		ev.preventDefault();
		try {
			await api('POST', `/api/v1/stores/${store.id}/sellers`,
			    { customer_id: Number(id.value), role: role.value });
			toast(t('sl_added'));
			reload();
		} catch (e) {
			toast(A.errText(e, 'sl_err_'), true);
		}
	};
	return el('form', { class: 'toolbar', id: 'seller-add-' + store.id,
	    on: { submit } }, id, role, el('button', { type: 'submit' },
	    t('sl_add_seller')));
}

function treeCard(dists, reload) {
	const admin = can.admin();
	const removeSeller = (store, s) => async () => {
		if (!await confirmBox(t('sl_remove'), el('p', {},
		    t('sl_remove_q'))))
			return;
		try {
			await api('DELETE', `/api/v1/stores/${store.id}/sellers/` +
			    s.customer_id);
			toast(t('sl_removed'));
			reload();
		} catch (e) {
			toast(A.errText(e, 'sl_err_'), true);
		}
	};
	const deleteStore = (store) => async () => {
		if (!await confirmBox(t('sl_delete'), el('p', {},
		    t('sl_delete_q'))))
			return;
		try {
			await api('DELETE', `/api/v1/stores/${store.id}`);
			toast(t('sl_deleted'));
			reload();
		} catch (e) {
			toast(A.errText(e, 'sl_err_'), true);
		}
	};
	const storeNode = (s) => el('li', { class: 'store', id: 'store-' + s.id },
	    el('strong', {}, s.name), s.city ? ` · ${s.city}` : null,
	    admin && !s.sellers.length ? [' ', el('button', { type: 'button',
	    class: 'small', on: { click: deleteStore(s) } }, t('sl_delete'))] :
	    null,
	    s.sellers.length ? el('ul', {}, s.sellers.map((x) => el('li',
	    { class: 'seller' }, P.customerLink(x.customer_id), ' ',
	    x.phone || '', ' · ', roleText(x.role), admin ? [' ',
	    el('button', { type: 'button', class: 'small',
	    on: { click: removeSeller(s, x) } }, t('sl_remove'))] : null))) :
	    el('p', { class: 'muted small' }, t('sl_no_sellers')),
	    admin ? sellerForm(s, reload) : null);
	return el('div', { class: 'card', id: 'channel-tree' },
	    el('h2', {}, t('sl_tree')),
	    dists.length ? el('ul', { class: 'tree' }, dists.map((d) =>
	    el('li', { class: 'distributor', id: 'dist-' + d.id },
	    el('strong', {}, d.name), d.stores.length ? el('ul', {},
	    d.stores.map(storeNode)) : el('p', { class: 'muted small' },
	    t('sl_no_stores'))))) : el('p', { class: 'empty' },
	    t('sl_no_dists')),
	    admin && dists.length ? storeForm(dists, reload) :
	    !admin ? el('p', { class: 'muted small' }, t('sl_admin_only')) :
	    null);
}

function moveCard(reload) {
	const code = el('input', { name: 'code', size: 40, 'aria-label':
	    t('sl_code'), placeholder: t('sl_code') });
	const seller = el('input', { name: 'seller', inputmode: 'numeric',
	    size: 10, 'aria-label': t('sl_to_seller'), placeholder:
	    t('sl_to_seller') });
	const submit = async (ev) => {
		ev.preventDefault();
		try {
			await api('POST', '/api/v1/bindings/move', { code:
			    code.value.trim(), seller: seller.value.trim() ?
			    Number(seller.value) : null });
			toast(t('sl_moved'));
			reload();
		} catch (e) {
			toast(A.errText(e, 'sl_err_'), true);
		}
	};
	return el('div', { class: 'card', id: 'binding-move' },
	    el('h2', {}, t('sl_move')), el('form', { class: 'toolbar',
	    on: { submit } }, code, seller, el('button', { type: 'submit' },
	    t('sl_move_go'))));
}

async function sellersPage(box) {
	const head = el('div', { class: 'toolbar' }, el('h1', {}, t('sl_title')),
	    el('span', { class: 'spacer' }), can.operate() ? el('a',
	    { class: 'button', id: 'channel-csv', href:
	    '/api/v1/exports/channel.csv?lang=' + (A.lang() === 'zh' ? 'zh' :
	    'en'), download: 'channel.csv' }, t('sl_export')) : null);
	const body = el('div', { id: 'channel' });
	append(box, [head, el('p', { class: 'muted' }, t('sl_what')), body]);
	const reload = async () => {
		loading(body);
		let tree, res;
		try {
			[tree, res] = await Promise.all([
			    api('GET', '/api/v1/channel/tree'),
			    api('GET', '/api/v1/channel/results')]);
		} catch (e) {
			failure(body, e, reload);
			return;
		}
		const storeName = {};
		for (const d of tree.distributors)
			for (const s of d.stores)
				storeName[s.id] = s.name;
		append(clear(body), [
		    el('div', { class: 'card', id: 'store-results' },
		    el('h2', {}, t('sl_results')), table(resultCols([
		    { label: t('sl_store'), render: (r) => r.store_name ||
		      storeName[r.store] || '#' + r.store },
		    { label: t('sl_dist'), render: (r) => r.distributor_name ||
		      '–' }]), res.stores, t('sl_none_yet'))),
		    el('div', { class: 'card', id: 'seller-results' },
		    el('h2', {}, t('sl_seller_results')), table(resultCols([
		    { label: t('sl_seller'), render: (r) => r.seller ?
		      P.customerLink(r.seller) : t('sl_nobody') },
		    { label: t('sl_role'), render: (r) => roleText(r.role) },
		    { label: t('sl_store'), render: (r) => r.store_name ||
		      storeName[r.store] || '#' + r.store }]), res.sellers,
		    t('sl_none_yet'))),
		    res.truncated ? el('div', { class: 'notice' },
		    t('sl_truncated')) : null,
		    treeCard(tree.distributors, reload),
		    can.operate() ? moveCard(reload) : null]);
	};
	await reload();
}

A.registerPage('sellers', 'distributors', sellersPage, { group: 'trace',
    ownNote: true });

})();
