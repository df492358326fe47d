/** Every fault scenario, in the order of the table. */
import type { FaultScenario } from '../scenario.js';
import { diskFull, onceUnreachable, sighup } from './agent-faults.js';
import { crashCloudLogging, crashCloudWatch, crashElasticsearch, crashFile, crashTextCloudWatch } from './crash.js';
import { cleanStopWithHeldTraceback, dockerPartialsAcrossRotation } from './docker.js';
import { quickFirstRotation } from './first-rotation.js';
import { maxOpenFilesTooSmall, outageWhileRotating, tenMinuteOutage } from './outage.js';
import { copytruncate, deletionWhileReading, rotationByRename } from './rotation.js';
import { sink429, sink503, sinkDown, sinkSlow } from './sink-faults.js';

export const SCENARIOS: readonly FaultScenario[] = [
  rotationByRename,
  copytruncate,
  deletionWhileReading,
  crashElasticsearch,
  crashCloudWatch,
  crashCloudLogging,
  crashFile,
  crashTextCloudWatch,
  sinkDown,
  sink429,
  sink503,
  sinkSlow,
  outageWhileRotating,
  tenMinuteOutage,
  maxOpenFilesTooSmall,
  dockerPartialsAcrossRotation,
  cleanStopWithHeldTraceback,
  quickFirstRotation,
  diskFull,
  onceUnreachable,
  sighup,
];
