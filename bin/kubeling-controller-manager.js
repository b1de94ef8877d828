#!/usr/bin/env node
// kubeling-controller-manager: see launch.js (compiled build when present, else the sources through tsx).
import { launch } from "./launch.js";

await launch("controller-manager");
