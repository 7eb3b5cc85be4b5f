import { activityScript } from './client/activity.js';
import { coreScript } from './client/core.js';
import { jobsScript } from './client/jobs.js';
import { liveScript } from './client/live.js';
import { scheduleScript } from './client/schedule.js';
import { dashboardHtml } from './html.js';
import { dashboardCss } from './style.js';

/** The dashboard page's three documents, served by the router at `GET /` and under `assets/`. */
export interface DashboardPage {
  /** Served at the mount root; loads the other two by relative URL. */
  html: string;
  /** Served at `assets/dashboard.js` (application/javascript). */
  script?: string;
  /** Served at `assets/dashboard.css` (text/css). */
  style?: string;
}

let page: DashboardPage | null = null;

/**
 * The dashboard page: plain HTML, CSS and ES2020 JavaScript with no framework, no CDN and no inline
 * script or style, talking only to the router's own API by relative URL. The client modules share
 * one function scope, in dependency order: core helpers, views, then the live loop that boots.
 */
export function dashboardPage(): DashboardPage {
  if (!page) {
    const script = [coreScript, jobsScript, scheduleScript, activityScript, liveScript].join('\n');
    page = {
      html: dashboardHtml,
      script: `/* Cronkeeper dashboard */\n(function () {\n'use strict';\n${script}\n})();\n`,
      style: dashboardCss,
    };
  }
  return page;
}
