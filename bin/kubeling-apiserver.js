#!/usr/bin/env node
// kubeling-apiserver: see launch.js (compiled build when present, else the sources through tsx).
import { launch } from "./launch.js";

await launch("apiserver");
