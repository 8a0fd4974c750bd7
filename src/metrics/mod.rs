//! KPI definitions shared by the simulator, the server and the load test (DESIGN.md section 4).
