#!/usr/bin/env node
// kubeling-scheduler: see launch.js (compiled build when present, else the sources through tsx).
import { launch } from "./launch.js";

await launch("scheduler");
