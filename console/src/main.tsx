import { lazy, StrictMode, Suspense } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter, NavLink, Route, Routes } from "react-router-dom";
import { EnrollmentPage } from "./pages/Enrollment";
import { JourneyPage } from "./pages/Journey";
import { JourneysPage } from "./pages/Journeys";
import { ProfilePage, ProfileSearch } from "./pages/Profile";
import { SessionGate, useSession } from "./session";
import "./styles.css";

// The editor (CodeMirror) and the charts (Recharts) load when their pages open.
const EditorPage = lazy(() => import("./editor/EditorPage"));
const ReportPage = lazy(() => import("./report/ReportPage"));
const TemplatesPage = lazy(() => import("./pages/Templates"));
const SegmentsPage = lazy(() => import("./pages/Segments"));
const ModelsPage = lazy(() => import("./pages/Models"));
const ExperiencesPage = lazy(() => import("./pages/Experiences"));

function Shell() {
  const { session, signOut } = useSession();
  return (
    <>
      <header className="top">
        <a className="brand" href="/console/">
          journeys
        </a>
        <nav aria-label="Main">
          <NavLink to="/" end>
            Journeys
          </NavLink>
          <NavLink to="/profiles">Profiles</NavLink>
          <NavLink to="/experiences">Experiences</NavLink>
          <NavLink to="/segments">Segments</NavLink>
          <NavLink to="/models">Models</NavLink>
          <NavLink to="/templates">Templates</NavLink>
          <a href="/docs">API docs</a>
        </nav>
        <span className="who">{session.role}</span>
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main>
        <Suspense fallback={<p className="loading">Loading…</p>}>
          <Routes>
            <Route path="/" element={<JourneysPage />} />
            <Route path="/journeys/new" element={<EditorPage />} />
            <Route path="/journeys/:key" element={<JourneyPage />} />
            <Route path="/journeys/:key/edit" element={<EditorPage />} />
            <Route path="/journeys/:key/report" element={<ReportPage />} />
            <Route path="/enrollments/:id" element={<EnrollmentPage />} />
            <Route path="/profiles" element={<ProfileSearch />} />
            <Route path="/profiles/:key" element={<ProfilePage />} />
            <Route path="/segments" element={<SegmentsPage />} />
            <Route path="/segments/:key" element={<SegmentsPage />} />
            <Route path="/models" element={<ModelsPage />} />
            <Route path="/experiences" element={<ExperiencesPage />} />
            <Route path="/experiences/:key" element={<ExperiencesPage />} />
            <Route path="/templates" element={<TemplatesPage />} />
            <Route path="/templates/:name" element={<TemplatesPage />} />
            <Route path="*" element={<p>No such page.</p>} />
          </Routes>
        </Suspense>
      </main>
    </>
  );
}

createRoot(document.getElementById("root") as HTMLElement).render(
  <StrictMode>
    <BrowserRouter basename="/console">
      <SessionGate>
        <Shell />
      </SessionGate>
    </BrowserRouter>
  </StrictMode>,
);
