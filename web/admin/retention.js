/*
 * retention.js - the dashboard's retention settings (issue 20 item 7):
 * how many days the brand keeps its scans' full IP addresses and precise
 * locations (GET/PUT /api/v1/privacy/retention; 0 keeps them for ever),
 * what the job has done (the last run and how far the brand's scans are
 * reduced) and, for an admin, a button that runs it now (POST
 * /api/v1/privacy/retention/run, answered at once; the page then polls
 * until the run has finished). Other roles see the setting, not the
 * controls.
 *
 * It keeps the rules of app.js (window.sigilAdmin): text only, the CSRF
 * token on every change (api()), errors by code in the page's language.
 */
'use strict';

(function () {

const A = window.sigilAdmin;
if (!A)
	return;
const { el, append, clear, t, api, can, toast, pill, when, fmt,
    loading } = A;

const POLL_MS = 1000;
const POLL_MAX = 120;

Object.assign(A.TEXT.zh, {
	retention: '数据保留',
	ret_intro: '扫码记录中的完整 IP 地址和精确位置属于个人信息。超过下面的天数后，' +
	    '每日任务会把 IP 地址截短到网段（IPv4 /24、IPv6 /48），并删除精确位置，' +
	    '只保留按 IP 判断的地区；扫码次数和判定结果不变。清除后的旧数据也会从磁盘上抹去。',
	ret_days: '保留天数（0 表示永久保留，最多 3650 天）',
	ret_save: '保存', ret_saved: '已保存',
	ret_forever: '永久保留（未设置期限）',
	ret_current: '当前期限', ret_days_unit: '天',
	ret_through: '已处理到', ret_through_none: '尚未处理任何扫码',
	ret_run: '立即执行', ret_running: '正在执行…',
	ret_started: '已开始执行', ret_done: '执行完毕',
	ret_last: '最近一次执行', ret_last_none: '本次启动以来尚未执行',
	ret_reduced: '已处理 {n} 条扫码', ret_seconds: '耗时 {s} 秒',
	ret_scrubbed: '磁盘已抹除', ret_not_scrubbed: '磁盘抹除未完成（下次启动时补做）',
	ret_failed: '执行失败',
	ret_daily: '任务在服务启动 30 秒后及此后每 24 小时自动执行。',
	ret_admin_only: '只有管理员可以修改保留期限或立即执行。',
	ret_err_invalid: '天数须为 0 到 3650 之间的整数。',
	ret_err_no_retention: '请先设置保留天数再执行。',
	ret_err_running: '已有一次执行正在进行，请稍后再试。',
	ret_err_forbidden: '只有管理员可以修改保留期限。',
	ret_err_load: '保留设置加载失败。',
});
Object.assign(A.TEXT.en, {
	retention: 'Data retention',
	ret_intro: 'A scan\'s full IP address and precise location are personal ' +
	    'data. After the number of days below, the daily job cuts the ' +
	    'address to its network (IPv4 /24, IPv6 /48) and deletes the ' +
	    'precise location, keeping only the region the address gave; scan ' +
	    'counts and verdicts do not change. The old bytes are wiped from ' +
	    'disk as well.',
	ret_days: 'Days to keep (0 keeps for ever; at most 3650)',
	ret_save: 'Save', ret_saved: 'Saved',
	ret_forever: 'Kept for ever (no period set)',
	ret_current: 'Current period', ret_days_unit: 'days',
	ret_through: 'Reduced up to', ret_through_none: 'No scan reduced yet',
	ret_run: 'Run now', ret_running: 'Running…',
	ret_started: 'Started', ret_done: 'Finished',
	ret_last: 'Last run', ret_last_none: 'Not run since the server started',
	ret_reduced: '{n} scans reduced', ret_seconds: '{s} s',
	ret_scrubbed: 'wiped from disk',
	ret_not_scrubbed: 'disk wipe not finished (done at the next start)',
	ret_failed: 'Failed',
	ret_daily: 'The job runs by itself 30 seconds after the server starts ' +
	    'and every 24 hours after.',
	ret_admin_only: 'Only an admin may change the period or run the job.',
	ret_err_invalid: 'The days must be a whole number from 0 to 3650.',
	ret_err_no_retention: 'Set a period before running the job.',
	ret_err_running: 'A run is under way; try again when it has finished.',
	ret_err_forbidden: 'Only an admin may change the period.',
	ret_err_load: 'The retention settings could not be loaded.',
});

function errText(e) {
	const key = 'ret_err_' + (e && e.code);
	return A.TEXT[A.lang()][key] ? t(key) : A.errText(e);
}

function runView(r) {
	if (!r)
		return el('p', { class: 'muted', id: 'ret-last' }, t('ret_last_none'));
	if (r.running)
		return el('p', { id: 'ret-last' }, pill(t('ret_running'), ''), ' ',
		    `${t('ret_started')} ${when(r.started)}`);
	const state = r.error ? pill(`${t('ret_failed')}: ${r.error}`, 'bad') :
	    pill(t('ret_done'), 'ok');
	return el('p', { id: 'ret-last' }, state, ' ',
	    el('span', { class: 'sub' }, `${when(r.finished)} · ` +
	    `${t('ret_reduced').replace('{n}', fmt(r.reduced))} · ` +
	    `${t('ret_seconds').replace('{s}', r.seconds.toFixed(2))} · ` +
	    (r.scrubbed ? t('ret_scrubbed') : t('ret_not_scrubbed'))));
}

async function retentionPage(box) {
	append(box, [el('div', { class: 'toolbar' }, el('h1', {}, t('retention'))),
	    el('p', { class: 'muted' }, t('ret_intro'))]);
	const card = el('div', { class: 'card', id: 'ret-card' });
	box.appendChild(card);
	let polls = 0;

	const draw = (doc) => {
		const status = el('div', { id: 'ret-status' },
		    el('p', {}, el('strong', {}, t('ret_current')), ': ',
		    doc.days ? `${fmt(doc.days)} ${t('ret_days_unit')}` :
		    t('ret_forever')),
		    el('p', {}, el('strong', {}, t('ret_through')), ': ',
		    doc.reduced_through ? when(doc.reduced_through) :
		    t('ret_through_none')),
		    el('div', {}, el('strong', {}, t('ret_last')), runView(
		    doc.last_run)),
		    el('p', { class: 'muted' }, t('ret_daily')));
		if (!can.admin()) {
			append(clear(card), [status, el('div', { class: 'notice',
			    id: 'ret-admin-only' }, t('ret_admin_only'))]);
			return;
		}
		/* No min/max: the browser's own refusal would skip ours. */
		const days = el('input', { id: 'ret-days', type: 'number', step: 1,
		    required: true, inputmode: 'numeric', value: String(doc.days) });
		const msg = el('div', { class: 'notice error', id: 'ret-msg',
		    hidden: true });
		const run = el('button', { type: 'button', id: 'ret-run' },
		    t('ret_run'));
		run.disabled = !doc.days || !!(doc.last_run && doc.last_run.running);
		const form = el('form', { class: 'stack', id: 'ret-form' },
		    el('label', {}, t('ret_days'), days),
		    el('div', { class: 'actions' }, el('button', { type: 'submit',
		    class: 'primary', id: 'ret-save' }, t('ret_save')), run));
		form.addEventListener('submit', async (ev) => {
			ev.preventDefault();
			msg.hidden = true;
			const n = Number(days.value);
			if (!Number.isInteger(n) || n < 0 || n > 3650) {
				msg.textContent = t('ret_err_invalid');
				msg.hidden = false;
				return;
			}
			try {
				draw(await api('PUT', '/api/v1/privacy/retention',
				    { days: n }));
				toast(t('ret_saved'));
			} catch (e) {
				msg.textContent = errText(e);
				msg.hidden = false;
			}
		});
		run.addEventListener('click', async () => {
			msg.hidden = true;
			run.disabled = true;
			try {
				draw(await api('POST', '/api/v1/privacy/retention/run',
				    {}));
				toast(t('ret_started'));
				polls = 0;
				setTimeout(poll, POLL_MS);
			} catch (e) {
				msg.textContent = errText(e);
				msg.hidden = false;
				run.disabled = false;
			}
		});
		append(clear(card), [status, msg, form]);
	};

	const load = async () => {
		const doc = await api('GET', '/api/v1/privacy/retention');
		if (card.isConnected)
			draw(doc);
		return doc;
	};
	/* Until the run started here has finished (or the page is left). */
	const poll = async () => {
		if (!card.isConnected || ++polls > POLL_MAX)
			return;
		try {
			const doc = await load();
			if (doc.last_run && doc.last_run.running)
				setTimeout(poll, POLL_MS);
		} catch (e) {
			toast(errText(e), true);
		}
	};

	loading(card);
	try {
		await load();
	} catch (e) {
		append(clear(card), [el('div', { class: 'notice error' },
		    t('ret_err_load'), ' ', errText(e))]);
	}
}

A.registerPage('retention', 'privacy', retentionPage,
    { group: 'settings', ownNote: true });

})();
