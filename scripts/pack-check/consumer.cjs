// Uses every entry point of the installed package from CommonJS (require).
'use strict';
const exercise = require('./exercise.cjs');

const entries = {
  root: require('cachet'),
  redis: require('cachet/redis'),
  llm: require('cachet/llm'),
  router: require('cachet/router'),
  retrieval: require('cachet/retrieval'),
  testing: require('cachet/testing'),
  nestjs: require('cachet/nestjs'),
  aiSdk: require('cachet/ai-sdk'),
  otel: require('cachet/otel'),
};

(async () => {
  for (const name of Object.keys(entries)) await exercise[name](entries);
  console.log(
    `  commonjs: ${Object.keys(entries)
      .map((name) => (name === 'root' ? 'cachet' : name === 'aiSdk' ? 'cachet/ai-sdk' : `cachet/${name}`))
      .join(', ')}: ok`,
  );
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
